/* Add to queue: POST /submit of the one-job form. */

import { ApiError, api } from '../api.js';
import { state } from '../store.js';
import { clearFieldErrors, formJob, jobWords, showFieldErrors, showFormError } from '../views/job-form.js';
import { hideNotice } from '../views/notice.js';
import { renderQueue } from '../views/queue.js';
import { exclusive } from './exclusive.js';

export function addJob(event) {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors();
  if (!form.reportValidity()) return;
  const job = formJob();
  exclusive('add', async () => {
    try {
      const { job_id: id } = await api.submit(job);
      state.queued += 1;
      state.queueLog.push({ count: 1, text: jobWords(id, job) });
      renderQueue();
      if (!state.resync) hideNotice();
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && Array.isArray(err.detail)) {
        showFieldErrors(err);
      } else {
        showFormError(err);
      }
      return false;
    }
  });
}
