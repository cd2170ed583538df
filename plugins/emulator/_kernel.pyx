# cython: language_level=3
"""Numeric core of the emulator: conductance-based LIF / AdEx neurons, a block of samples.

Numeric loops only: no Python objects, validation or logging inside (the
wrapper in ``kernel.py`` does all of that). State is laid out
``[neuron, sample]`` so the innermost loop runs over contiguous samples.

Scheme per step of ``dt`` (all times in units of dt inside the kernel):
conductances decay exactly; the membrane sees the conductances' step average
(exact for exponential decay) and is advanced with the (2,2)-Pade form of the
exponential integrator, ``V1 = (V0 (1 - x/2) + h I) / (1 + x/2)`` with
``x = h g_tot``, ``h = dt / C`` -- second order and unconditionally stable.
A threshold crossing is placed inside the step by linear interpolation; the
refractory clamp ends inside a step too. Events (inputs, and neuron spikes
after the synaptic delay) arriving inside a step make the conductance exact
from the step's end on and add their exact share to the step's average (see
``_arrive``), as the reference integrator does. AdEx terms (adaptation current, exponential term) are
integrated with forward Euler when enabled.
"""

cimport cython
from libc.math cimport exp

cdef extern from *:
    """
    /* The vectorisable part of a LIF step for one neuron across its samples. Written in C for
       `restrict`: without it the compiler must assume the arrays alias and will not vectorise. */
    #define HAL_LIF_PASS(NAME, T, EXTRA_E, EXTRA_I)                                                 \
    static int NAME(Py_ssize_t m, T* restrict v, T* restrict ge, T* restrict gi,                     \
                    const T* restrict ae, const T* restrict ai, T* restrict v_old, T avg_e,          \
                    T avg_i, T h, T g_l, T e_l, T e_e, T e_i, T de, T di, T v_th) {                  \
        const T c_l = g_l * e_l;                                                                    \
        T highest = v_th - 1;                                                                       \
        for (Py_ssize_t s = 0; s < m; s++) {                                                        \
            T gei = ge[s] * avg_e + EXTRA_E;                                                        \
            T gii = gi[s] * avg_i + EXTRA_I;                                                        \
            T x = h * (g_l + gei + gii);                                                            \
            T v0 = v[s];                                                                            \
            T v1 = (v0 * (1 - x / 2) + h * (c_l + gei * e_e + gii * e_i)) / (1 + x / 2);            \
            v_old[s] = v0; v[s] = v1;                                                               \
            ge[s] *= de; gi[s] *= di;                                                               \
            highest = highest > v1 ? highest : v1;  /* a max reduction vectorises; an OR of masks less well */ \
        }                                                                                           \
        return highest >= v_th;                                                                     \
    }
    /* With events in this step (ae/ai: their extra share of the step's conductance average) and without. */
    HAL_LIF_PASS(hal_lif_pass_d, double, ae[s], ai[s])
    HAL_LIF_PASS(hal_lif_pass_f, float, ae[s], ai[s])
    HAL_LIF_PASS(hal_lif_pass_quiet_d, double, 0, 0)
    HAL_LIF_PASS(hal_lif_pass_quiet_f, float, 0, 0)
    """
    int hal_lif_pass_d(Py_ssize_t m, double* v, double* ge, double* gi, const double* ae, const double* ai, double* v_old,
                       double avg_e, double avg_i, double h, double g_l, double e_l, double e_e, double e_i, double de,
                       double di, double v_th) noexcept nogil
    int hal_lif_pass_f(Py_ssize_t m, float* v, float* ge, float* gi, const float* ae, const float* ai, float* v_old,
                       float avg_e, float avg_i, float h, float g_l, float e_l, float e_e, float e_i, float de,
                       float di, float v_th) noexcept nogil
    int hal_lif_pass_quiet_d(Py_ssize_t m, double* v, double* ge, double* gi, const double* ae, const double* ai, double* v_old,
                             double avg_e, double avg_i, double h, double g_l, double e_l, double e_e, double e_i, double de,
                             double di, double v_th) noexcept nogil
    int hal_lif_pass_quiet_f(Py_ssize_t m, float* v, float* ge, float* gi, const float* ae, const float* ai, float* v_old,
                             float avg_e, float avg_i, float h, float g_l, float e_l, float e_e, float e_i, float de,
                             float di, float v_th) noexcept nogil

ctypedef fused real:
    float
    double


@cython.cdivision(True)
cdef inline void _arrive(real* g, real* g_avg_extra, real w, real offset, real inv_tau, real avg, real decay) noexcept nogil:
    """An event of weight ``w`` arriving ``offset`` (0..1) into the step.

    ``g`` (decayed by a whole step after the update) gets the value that makes it
    exact from the step's end on; the step's average gets what the event really
    adds to it, ``w (1 - exp(-(1 - offset) dt/tau)) tau/dt``, minus what the
    addition to ``g`` already contributes. ``decay = exp(-inv_tau)``, so that one exp serves
    both: ``exp(-(1 - offset) inv_tau) = exp(offset inv_tau) decay``.
    """
    cdef real grow = <real>exp(offset * inv_tau)
    cdef real x = w * grow
    g[0] += x
    g_avg_extra[0] += w * (1 - grow * decay) / inv_tau - x * avg


@cython.cdivision(True)
cdef inline real _crossing(real v0, real v1, real v_th, real start) noexcept nogil:
    """Where in the step (0..1) the membrane crossed threshold, by linear interpolation."""
    cdef real frac = start
    if v1 > v0:
        frac = start + (1 - start) * (v_th - v0) / (v1 - v0)
    if frac < 0:
        frac = 0
    if frac > 1:
        frac = 1
    return frac


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline Py_ssize_t _emit(Py_ssize_t n_out, Py_ssize_t step, Py_ssize_t n, Py_ssize_t s, real frac,
                             int[::1] out_step, int[::1] out_neuron, int[::1] out_sample, real[::1] out_offset,
                             bint has_targets, int delay_steps, real delay_frac,
                             int[:, ::1] ring_neuron, int[:, ::1] ring_sample, real[:, ::1] ring_offset, int[::1] ring_count) noexcept nogil:
    """Record a spike and schedule its delivery after the delay; returns the new spike count."""
    cdef real arrive
    cdef Py_ssize_t idx, slot, k
    out_step[n_out] = <int>step
    out_neuron[n_out] = <int>n
    out_sample[n_out] = <int>s
    out_offset[n_out] = frac
    if has_targets:
        arrive = frac + delay_frac
        idx = step + delay_steps
        if arrive >= 1:
            arrive = arrive - 1
            idx = idx + 1
        if idx <= step:  # zero delay: deliver next step
            idx = step + 1
        slot = idx % ring_count.shape[0]
        k = ring_count[slot]
        ring_neuron[slot, k] = <int>n
        ring_sample[slot, k] = <int>s
        ring_offset[slot, k] = arrive
        ring_count[slot] = <int>(k + 1)
    return n_out + 1


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
@cython.initializedcheck(False)
def run_block(
    # per neuron
    real[::1] v_th, real[::1] v_reset, real[::1] e_l, real[::1] e_e, real[::1] e_i,
    real[::1] g_l, real[::1] h, real[::1] decay_e, real[::1] decay_i,
    real[::1] avg_e, real[::1] avg_i, real[::1] inv_tau_e, real[::1] inv_tau_i, real[::1] t_ref,
    # AdEx (ignored unless adex != 0): a (nS), b (nA*C units), 1/tau_w (1/dt), delta_t, v_exp
    int adex, real[::1] a, real[::1] b, real[::1] inv_tau_w, real[::1] delta_t, real[::1] v_exp,
    # connections from neurons (CSR over pre neuron) and from sources (CSR over source)
    int[::1] nrn_ptr, int[::1] nrn_post, real[::1] nrn_w, signed char[::1] nrn_exc, real delay,
    int[::1] src_ptr, int[::1] src_post, real[::1] src_w, signed char[::1] src_exc,
    # input events of this block, sorted by (sample, step): step, source, offset in the step (0..1); each sample's
    # next event and end (in_cursor advances as the block runs; it is state, like the membranes)
    int[::1] in_step, int[::1] in_source, real[::1] in_offset, long long[::1] in_cursor, long long[::1] in_end,
    # state [neuron, sample], updated in place
    real[:, ::1] v, real[:, ::1] ge, real[:, ::1] gi, real[:, ::1] ae, real[:, ::1] ai, real[:, ::1] w_ad, real[:, ::1] refr_end,
    int step0, int n_steps,
    # membrane recording
    int[::1] rec_neuron, int rec_every, real[:, :, ::1] rec_v,
    # output spikes (capacity = out_step.shape[0])
    int[::1] out_step, int[::1] out_neuron, int[::1] out_sample, real[::1] out_offset,
    # ring buffer for delayed neuron spikes: [slot, entry] = (neuron, sample, offset)
    int[:, ::1] ring_neuron, int[:, ::1] ring_sample, real[:, ::1] ring_offset, int[::1] ring_count,
    # scratch, one entry per sample: the membrane before this step's pass
    real[::1] tmp_v,
    # scratch, one entry per neuron: events arrived in this step; end of the latest refractory period
    signed char[::1] touched, real[::1] refr_until,
):
    """Advance the block from step ``step0`` by ``n_steps``; returns the number of spikes written, or -1 on overflow.

    On overflow the state is partly advanced: the caller restores its copy and retries with more room.
    """
    cdef Py_ssize_t n_neurons = v.shape[0]
    cdef Py_ssize_t n_samples = v.shape[1]
    cdef Py_ssize_t n_slots = ring_count.shape[0]
    cdef Py_ssize_t capacity = out_step.shape[0]
    cdef Py_ssize_t n_rec = rec_neuron.shape[0]
    cdef int delay_steps = <int>delay
    cdef real delay_frac = delay - delay_steps
    cdef Py_ssize_t step, n, s, k, e, slot, tgt, idx, ev, n_out = 0
    cdef real x, g_tot, current, v0, v1, frac, start, remaining, gei, gii, arrive
    cdef int pre, sample
    cdef int overflow = 0
    cdef int flagged

    with nogil:
        for n in range(n_neurons):
            touched[n] = 0
            refr_until[n] = -1
            for s in range(n_samples):
                if refr_end[n, s] > refr_until[n]:
                    refr_until[n] = refr_end[n, s]
        for step in range(step0, step0 + n_steps):
            # 1. inputs arriving in this step, sample by sample
            for sample in range(n_samples):
                ev = in_cursor[sample]
                while ev < in_end[sample] and in_step[ev] <= step:
                    pre = in_source[ev]
                    for k in range(src_ptr[pre], src_ptr[pre + 1]):
                        tgt = src_post[k]
                        touched[tgt] = 1
                        if src_exc[k]:
                            _arrive(&ge[tgt, sample], &ae[tgt, sample], src_w[k], in_offset[ev], inv_tau_e[tgt], avg_e[tgt], decay_e[tgt])
                        else:
                            _arrive(&gi[tgt, sample], &ai[tgt, sample], src_w[k], in_offset[ev], inv_tau_i[tgt], avg_i[tgt], decay_i[tgt])
                    ev += 1
                in_cursor[sample] = ev
            # 2. neuron spikes whose delay ends in this step
            slot = step % n_slots
            for e in range(ring_count[slot]):
                pre = ring_neuron[slot, e]
                sample = ring_sample[slot, e]
                arrive = ring_offset[slot, e]
                for k in range(nrn_ptr[pre], nrn_ptr[pre + 1]):
                    tgt = nrn_post[k]
                    touched[tgt] = 1
                    if nrn_exc[k]:
                        _arrive(&ge[tgt, sample], &ae[tgt, sample], nrn_w[k], arrive, inv_tau_e[tgt], avg_e[tgt], decay_e[tgt])
                    else:
                        _arrive(&gi[tgt, sample], &ai[tgt, sample], nrn_w[k], arrive, inv_tau_i[tgt], avg_i[tgt], decay_i[tgt])
            ring_count[slot] = 0
            # 3. membranes
            for n in range(n_neurons):
                if not adex:
                    # 3a. the common case for all samples, branch-free so that it vectorises; it reports
                    # whether any sample crossed threshold. tmp_v keeps the old membrane for 3b.
                    if real is double:
                        if touched[n]:
                            flagged = hal_lif_pass_d(n_samples, &v[n, 0], &ge[n, 0], &gi[n, 0], &ae[n, 0], &ai[n, 0], &tmp_v[0],
                                                     avg_e[n], avg_i[n], h[n], g_l[n], e_l[n], e_e[n], e_i[n], decay_e[n], decay_i[n], v_th[n])
                        else:
                            flagged = hal_lif_pass_quiet_d(n_samples, &v[n, 0], &ge[n, 0], &gi[n, 0], &ae[n, 0], &ai[n, 0], &tmp_v[0],
                                                           avg_e[n], avg_i[n], h[n], g_l[n], e_l[n], e_e[n], e_i[n], decay_e[n], decay_i[n], v_th[n])
                    else:
                        if touched[n]:
                            flagged = hal_lif_pass_f(n_samples, &v[n, 0], &ge[n, 0], &gi[n, 0], &ae[n, 0], &ai[n, 0], &tmp_v[0],
                                                     avg_e[n], avg_i[n], h[n], g_l[n], e_l[n], e_e[n], e_i[n], decay_e[n], decay_i[n], v_th[n])
                        else:
                            flagged = hal_lif_pass_quiet_f(n_samples, &v[n, 0], &ge[n, 0], &gi[n, 0], &ae[n, 0], &ai[n, 0], &tmp_v[0],
                                                           avg_e[n], avg_i[n], h[n], g_l[n], e_l[n], e_e[n], e_i[n], decay_e[n], decay_i[n], v_th[n])
                    if flagged or refr_until[n] > step:
                        # 3b. refractory clamps and spikes (rare): fix up sample by sample
                        for s in range(n_samples):
                            v0 = tmp_v[s]
                            v1 = v[n, s]
                            start = 0
                            if refr_end[n, s] > step:
                                if refr_end[n, s] >= step + 1:
                                    v[n, s] = v_reset[n]
                                    continue
                                # the period ends inside the step: integrate from its end (this step's
                                # conductance average, recovered from the decayed conductance)
                                start = refr_end[n, s] - step
                                v0 = v_reset[n]
                                remaining = 1 - start
                                gei = ge[n, s] / decay_e[n] * avg_e[n] + ae[n, s]
                                gii = gi[n, s] / decay_i[n] * avg_i[n] + ai[n, s]
                                x = h[n] * (g_l[n] + gei + gii) * remaining
                                v1 = (v0 * (1 - x / 2) + h[n] * (g_l[n] * e_l[n] + gei * e_e[n] + gii * e_i[n]) * remaining) / (1 + x / 2)
                            if v1 < v_th[n]:
                                v[n, s] = v1
                                continue
                            frac = _crossing(v0, v1, v_th[n], start)
                            v[n, s] = v_reset[n]
                            refr_end[n, s] = step + frac + t_ref[n]
                            if refr_end[n, s] > refr_until[n]:
                                refr_until[n] = refr_end[n, s]
                            if n_out >= capacity:
                                overflow = 1
                                break
                            n_out = _emit(n_out, step, n, s, frac, out_step, out_neuron, out_sample, out_offset,
                                          nrn_ptr[n + 1] > nrn_ptr[n], delay_steps, delay_frac, ring_neuron, ring_sample, ring_offset, ring_count)
                    if touched[n]:
                        touched[n] = 0
                        for s in range(n_samples):
                            ae[n, s] = 0
                            ai[n, s] = 0
                else:
                    # AdEx: adaptation and exponential terms, one sample at a time
                    touched[n] = 0
                    for s in range(n_samples):
                        gei = ge[n, s] * avg_e[n] + ae[n, s]
                        gii = gi[n, s] * avg_i[n] + ai[n, s]
                        ae[n, s] = 0
                        ai[n, s] = 0
                        v0 = v[n, s]
                        start = 0
                        if refr_end[n, s] > step:
                            if refr_end[n, s] >= step + 1:
                                v[n, s] = v_reset[n]
                                ge[n, s] *= decay_e[n]
                                gi[n, s] *= decay_i[n]
                                w_ad[n, s] -= w_ad[n, s] * inv_tau_w[n]
                                continue
                            start = refr_end[n, s] - step
                            v0 = v_reset[n]
                        remaining = 1 - start
                        g_tot = g_l[n] + gei + gii
                        current = g_l[n] * e_l[n] + gei * e_e[n] + gii * e_i[n] - w_ad[n, s]
                        if delta_t[n] > 0:
                            current = current + g_l[n] * delta_t[n] * <real>exp((v0 - v_exp[n]) / delta_t[n])
                        x = h[n] * g_tot * remaining
                        v1 = (v0 * (1 - x / 2) + h[n] * current * remaining) / (1 + x / 2)
                        w_ad[n, s] += (a[n] * (v0 - e_l[n]) - w_ad[n, s]) * inv_tau_w[n]
                        ge[n, s] *= decay_e[n]
                        gi[n, s] *= decay_i[n]
                        if v1 < v_th[n]:
                            v[n, s] = v1
                            continue
                        frac = _crossing(v0, v1, v_th[n], start)
                        v[n, s] = v_reset[n]
                        refr_end[n, s] = step + frac + t_ref[n]
                        w_ad[n, s] += b[n]
                        if n_out >= capacity:
                            overflow = 1
                            break
                        n_out = _emit(n_out, step, n, s, frac, out_step, out_neuron, out_sample, out_offset,
                                      nrn_ptr[n + 1] > nrn_ptr[n], delay_steps, delay_frac, ring_neuron, ring_sample, ring_offset, ring_count)
                if overflow:
                    break
            if overflow:
                break
            # 4. membrane samples at the end of every rec_every-th step
            if n_rec > 0 and (step + 1) % rec_every == 0:
                idx = (step + 1) // rec_every - 1
                if idx < rec_v.shape[2]:
                    for e in range(n_rec):
                        for s in range(n_samples):
                            rec_v[e, s, idx] = v[rec_neuron[e], s]
    return -1 if overflow else n_out


@cython.boundscheck(False)
@cython.wraparound(False)
def fifo_filter_keyed(long long[::1] sample, long long[::1] time, long long[::1] key, long long spacing, int depth,
                      signed char[::1] accepted, long long[::1] delivered, long long[::1] free_at, long long[::1] owner):
    """Links that serve one event per ``spacing`` ticks with a queue of ``depth`` waiting events.

    Events must be sorted by (sample, time); each key (a link) keeps its own queue, which
    starts empty with every sample, so no grouping by key is needed. An event that finds the
    queue full is dropped (``accepted = 0``, ``delivered = -1``); the others leave at
    ``delivered`` (>= their time). ``free_at`` and ``owner`` are scratch, one entry per key;
    ``owner`` must start at -1. Returns the number dropped.
    """
    cdef Py_ssize_t i, k, n = sample.shape[0]
    cdef long long start, dropped = 0
    with nogil:
        for i in range(n):
            k = key[i]
            if owner[k] != sample[i]:
                owner[k] = sample[i]
                free_at[k] = time[i]
            start = free_at[k] if free_at[k] > time[i] else time[i]
            if (start - time[i]) > depth * spacing:
                accepted[i] = 0
                delivered[i] = -1
                dropped += 1
                continue
            accepted[i] = 1
            delivered[i] = start
            free_at[k] = start + spacing
    return dropped
