/* Choosing and uploading a job CSV (POST /upload). */

import { ApiError, StaleAnswer, api } from '../api.js';
import { $, setOff, setText } from '../dom.js';
import { integer } from '../format.js';
import { state } from '../store.js';
import { openAddPanel, showCsvErrors } from '../views/job-form.js';
import { hideNotice, showError, showNotice } from '../views/notice.js';
import { renderQueue } from '../views/queue.js';
import { exclusive } from './exclusive.js';

/** POST /upload of `file`; on success the file is queued whole, on 422 every bad row is listed. The file
 * stops being the pending one as the upload starts (so a second Upload or a Run cannot queue it again)
 * and is pending again if the upload fails. */
export async function uploadFile(file) {
  $('csv-errors').hidden = true;
  setText('csv-status', `Uploading ${file.name}…`);
  if (state.pendingFile === file) state.pendingFile = null;
  try {
    const result = await api.upload(file);
    state.queued += result.count;
    const ids = result.job_ids;
    state.queueLog.push({ count: result.count, text: `Jobs ${ids[0]}–${ids[ids.length - 1]} (${integer(result.count)}) from ${file.name}` });
    if ($('csv-file').files[0] === file) $('csv-file').value = '';
    setText('csv-status', `Queued ${integer(result.count)} jobs from ${file.name}.`);
    renderQueue();
    if (!state.resync) hideNotice();
    return result;
  } catch (err) {
    if (err instanceof StaleAnswer) throw err;
    if (state.pendingFile === null && $('csv-file').files[0] === file) state.pendingFile = file;
    setText('csv-status', '');
    if (err instanceof ApiError && err.status === 422) {
      showCsvErrors(err, file.name);
      showNotice(`The file ${file.name} was not queued`, ['Fix the rows listed under "Upload a job CSV" and upload it again.']);
      openAddPanel(true);
    } else {
      showError(err);
    }
    throw err;
  }
}

/** Upload and queue. A second press while the file is on its way does nothing; the button says so. */
export function onCsvSubmit(event) {
  event.preventDefault();
  if (state.busy === 'upload') return;
  const file = $('csv-file').files[0];
  if (!file) {
    setText('csv-status', 'Choose a CSV file first.');
    return;
  }
  const button = $('csv-upload');
  exclusive('upload', async () => {
    setOff(button, true);
    try {
      return await uploadFile(file);
    } catch (err) {
      return null; // shown on the page
    } finally {
      setOff(button, false);
    }
  });
}

/** A file chosen: pending until it is uploaded, by Upload or by Run scheduler. */
export function onCsvChosen(event) {
  state.pendingFile = event.target.files[0] || null;
  $('csv-errors').hidden = true;
  setText('csv-status', state.pendingFile ? `${state.pendingFile.name} chosen: upload it now, or press Run scheduler to upload and run it.` : '');
}
