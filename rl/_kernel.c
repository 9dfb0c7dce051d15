/* The tier agent's act-and-learn step (rl/agent.py: Learner.step, act, td_update; rl/model.py: epsilon)
 * in C, looped over a sequence as rl/agent.py run_sequence_py does, for speed. Same arithmetic in the same
 * order as the Python version; tests check they agree bit for bit. The hyper-parameters come from the
 * Python AgentConfig as arguments: this file holds no constant of its own.
 * Arrays are C-contiguous float64 unless noted. Returns the agent's new step count.
 * With episode_len > 0 the m steps are m / episode_len episodes: each starts from its row of
 * episode_loads (P loads) and its last step learns without bootstrap, as if run one call each.
 * allowed (uint8, m x P, or NULL for all) limits which servers a job may take, greedy or exploring;
 * every row allows at least one. The bootstrap target still maximises over every action.
 * w_out (m x P x F, or NULL) receives the weights each step's Q-values were computed with. */
#include <stdint.h>

#define MAX_POOL 64

static double dot(const double *a, const double *b, int n) {
    double s = 0.0;
    for (int j = 0; j < n; j++) s += a[j] * b[j];
    return s;
}

/* rl.model.epsilon: eps_start * max(eps_floor, 1 - steps / eps_decay_steps) */
static double epsilon(int64_t steps, double eps_start, double eps_floor, double eps_decay_steps) {
    double frac = 1.0 - (double)steps / eps_decay_steps;
    return eps_start * (frac > eps_floor ? frac : eps_floor);
}

/* rl.agent.td_update: W[a] += lr * (target - Q(s, a)) * phi(s), with Q(s, a) as the step computed it */
static void td_update(double *row, const double *phi, int F, double q_sa, double target, double lr) {
    double step = lr * (target - q_sa);
    for (int j = 0; j < F; j++) row[j] = row[j] + step * phi[j];
}

/* rl.agent.act: u < eps explores (the int(v * n)-th of the n allowed), else the highest Q among the
 * allowed, lowest index on ties. ok: P flags, or NULL for all. */
static int act(const double *q, int P, double eps, double u, double v, const uint8_t *ok, uint8_t *explored) {
    int a = -1;
    if (u < eps) {
        int n_ok = P;
        if (ok) { n_ok = 0; for (int k = 0; k < P; k++) n_ok += ok[k] ? 1 : 0; }
        int pick = (int)(v * n_ok);
        if (pick > n_ok - 1) pick = n_ok - 1;
        for (int k = 0; k < P; k++) {
            if (ok && !ok[k]) continue;
            if (pick-- == 0) { a = k; break; }
        }
        *explored = 1;
    } else {
        for (int k = 0; k < P; k++) if ((!ok || ok[k]) && (a < 0 || q[k] > q[a])) a = k;
        *explored = 0;
    }
    return a;
}

int64_t run_sequence(int P, double *W, int64_t steps, int64_t *loads, int64_t m,
                     const double *stat, const double *quality, const double *draws,
                     double overload_weight, double lr, double gamma,
                     double eps_start, double eps_floor, double eps_decay_steps,
                     int64_t *actions, double *q_out, double *rewards, uint8_t *explored,
                     int64_t episode_len, const int64_t *episode_loads, const uint8_t *allowed, double *w_out) {
    const int F = P + 4;
    double phi[MAX_POOL + 4], prev_phi[MAX_POOL + 4], q[MAX_POOL];
    int prev_a = -1;  /* the pending update of Learner.step: phi, action, reward and Q(s, a) of the last job */
    double prev_r = 0.0, prev_q = 0.0;
    if (P < 1 || P > MAX_POOL) return -1;
    for (int64_t i = 0; i < m; i++) {
        if (episode_len > 0 && i % episode_len == 0) {  /* a new episode: close the last one, fresh loads */
            if (prev_a >= 0) td_update(W + prev_a * F, prev_phi, F, prev_q, prev_r, lr);
            prev_a = -1;
            for (int j = 0; j < P; j++) loads[j] = episode_loads[(i / episode_len) * P + j];
        }
        /* Learner.step */
        int64_t busiest = 0, total = 0;
        for (int j = 0; j < P; j++) { if (loads[j] > busiest) busiest = loads[j]; total += loads[j]; }
        if (busiest == 0) busiest = 1;
        for (int j = 0; j < P; j++) phi[j] = (double)loads[j] / (double)busiest;
        for (int j = 0; j < 4; j++) phi[P + j] = stat[i * 4 + j];
        for (int a = 0; a < P; a++) q[a] = dot(W + a * F, phi, F);
        if (prev_a >= 0) {  /* finish the previous job's TD(0) update with this state as s' */
            double best = q[0];
            for (int a = 1; a < P; a++) if (q[a] > best) best = q[a];
            td_update(W + prev_a * F, prev_phi, F, prev_q, prev_r + gamma * best, lr);
            q[prev_a] = dot(W + prev_a * F, phi, F);
        }
        if (w_out) for (int j = 0; j < P * F; j++) w_out[i * P * F + j] = W[j];
        double eps = epsilon(steps, eps_start, eps_floor, eps_decay_steps);
        int a = act(q, P, eps, draws[i * 2], draws[i * 2 + 1], allowed ? allowed + i * P : 0, explored + i);
        double over = (double)loads[a] - (double)total / P;
        double r = quality[i * P + a] - overload_weight * (over > 0.0 ? over : 0.0);
        steps += 1;
        for (int j = 0; j < F; j++) prev_phi[j] = phi[j];
        prev_a = a;
        prev_r = r;
        prev_q = q[a];
        /* run_sequence_py: place the job, record the step */
        loads[a] += 1;
        actions[i] = a;
        for (int k = 0; k < P; k++) q_out[i * P + k] = q[k];
        rewards[i] = r;
    }
    /* last job: no next state of this tier, the target is the reward alone */
    if (prev_a >= 0) td_update(W + prev_a * F, prev_phi, F, prev_q, prev_r, lr);
    return steps;
}
