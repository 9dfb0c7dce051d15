/* The Workflows tab's examples: files under frontend/static/workflows/, each a body of POST /workflows (and a
 * file for `python -m scheduler run`). Each ends the same way on every run: its kinds are deterministic (the
 * diamond's flaky task draws from the workflow's seed 2, which fails its first two attempts at p = 0.6 and
 * passes the third) and its sleeps last fractions of a second on the executor's clock. The first is the
 * sample the tab offers to download. */

// Short labels: a phone's select has room for about 25 characters.
export const EXAMPLES = [
  { file: 'etl', label: '3-step ETL' },
  { file: 'diamond', label: 'Diamond, a task retried' },
  { file: 'saga', label: 'Failing saga, rolled back' },
  { file: 'carbon-aware', label: 'Carbon-aware, deadline' },
];

export const exampleUrl = (file) => `/static/workflows/${file}.json`;
