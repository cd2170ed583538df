"""Numeric core of the emulator: conductance-based LIF / AdEx neurons, a block of samples.

Numeric loops only: no Python objects, validation or logging inside (the
wrapper in ``kernel.py`` does all of that). State is laid out
``[neuron, sample]`` so the innermost loop runs over contiguous samples.

Scheme per step of ``dt`` (all times in units of dt inside the kernel):
conductances decay exactly; the membrane sees the conductances' step average
(exact for exponential decay) and is advanced with the (1,1)-Pade form of the
exponential integrator, ``V1 = (V0 (2 - x) + 2 h I) / (2 + x)`` with
``x = h g_tot``, ``h = dt / C`` -- second order and unconditionally stable.
A threshold crossing is placed inside the step by linear interpolation; the
refractory clamp ends inside a step too. Events (inputs, and neuron spikes
after the synaptic delay) arriving inside a step make the conductance exact
from the step's end on and add their exact share to the step's average (see
``_arrive``), as the reference integrator does. AdEx terms (adaptation current, exponential term) are
integrated with forward Euler when enabled.

The LIF step is one branch-free pass per neuron over its samples (refractory
clamps included, as selects), written in C so that the compiler vectorises it;
it is compiled three times -- AVX-512, AVX2+FMA, and the portable x86-64 baseline
(or plain C elsewhere) -- and :func:`simd_levels` says which of them this CPU runs;
the caller picks one per call (``simd``). Only samples that crossed threshold
leave the pass for the scalar spike code.

Refractoriness is kept relative to the current step (``refr``: how much of the
refractory period is left at the step's start, in steps; <= 0: none), so that
float32 keeps its precision however long the run.
"""

cimport cython
from libc.math cimport exp

cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #include <xmmintrin.h>
    /* Flush denormals to zero while the kernel runs (restored after): a decaying float32 conductance
       becomes denormal after a few thousand quiet steps, and every operation on it then costs ~100 cycles. */
    static unsigned int hal_flush_denormals(void) { unsigned int old = _mm_getcsr(); _mm_setcsr(old | 0x8040); return old; }
    static void hal_restore_fp(unsigned int old) { _mm_setcsr(old); }
    #define HAL_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma")))
    #define HAL_TARGET_AVX2 __attribute__((target("avx2,fma")))
    static int hal_simd_supported(int level) {
        __builtin_cpu_init();
        if (level == 2) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
        if (level == 1) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        return level == 0;
    }
    #else
    #define HAL_TARGET_AVX512
    #define HAL_TARGET_AVX2
    static int hal_simd_supported(int level) { return level == 0; }
    static unsigned int hal_flush_denormals(void) { return 0; }
    static void hal_restore_fp(unsigned int old) { (void)old; }
    #endif

    /* One LIF step of one neuron across its m samples, refractory clamps as selects (branch-free, so
       that it vectorises; `restrict`: without it the compiler must assume the arrays alias). EVENTS:
       ae/ai hold the extra share of events arriving in this step (then cleared). REFR: some sample may
       be refractory (without: refr is neither read nor written -- all its entries are <= 0 and stay
       so; with rem = 1 the arithmetic is the same, bit for bit). Returns whether any sample reached
       threshold; v_old gets each sample's start value for the crossing. */
    #define HAL_LIF_PASS(NAME, T, TARGET, EVENTS, REFR)                                                   \
    static TARGET int NAME(Py_ssize_t m, T* restrict v, T* restrict ge, T* restrict gi,                  \
                    T* restrict ae, T* restrict ai, T* restrict refr, T* restrict v_old, T avg_e,          \
                    T avg_i, T h, T g_l, T e_l, T e_e, T e_i, T de, T di, T v_th, T v_reset) {             \
        const T c_l = g_l * e_l;                                                                         \
        T highest = v_th - 1;                                                                            \
        for (Py_ssize_t s = 0; s < m; s++) {                                                             \
            T gei = ge[s] * avg_e;                                                                       \
            T gii = gi[s] * avg_i;                                                                       \
            if (EVENTS) { gei += ae[s]; gii += ai[s]; ae[s] = 0; ai[s] = 0; }                            \
            T v0 = v[s], v1;                                                                             \
            if (REFR) {                                                                                  \
                T r = refr[s];                                                                           \
                T rem = 1 - (r > 0 ? (r < 1 ? r : (T)1) : (T)0);                                         \
                v0 = r > 0 ? v_reset : v0;                                                               \
                T x = h * rem * (g_l + gei + gii);                                                       \
                v1 = (v0 * (2 - x) + 2 * h * rem * (c_l + gei * e_e + gii * e_i)) / (2 + x);            \
                v1 = r >= 1 ? v_reset : v1;                                                              \
                refr[s] = r > 0 ? r - 1 : (T)-1;                                                         \
            } else {                                                                                     \
                T x = h * (g_l + gei + gii);                                                             \
                v1 = (v0 * (2 - x) + 2 * h * (c_l + gei * e_e + gii * e_i)) / (2 + x);                  \
            }                                                                                            \
            v_old[s] = v0; v[s] = v1;                                                                    \
            ge[s] *= de; gi[s] *= di;                                                                    \
            highest = highest > v1 ? highest : v1;  /* a max reduction vectorises; an OR of masks less well */ \
        }                                                                                                \
        return highest >= v_th;                                                                          \
    }
    #define HAL_LIF_PASSES_T(SUFFIX, TARGET, T, C) \
        HAL_LIF_PASS(hal_lif_##C##_##SUFFIX##_11, T, TARGET, 1, 1) HAL_LIF_PASS(hal_lif_##C##_##SUFFIX##_10, T, TARGET, 1, 0) \
        HAL_LIF_PASS(hal_lif_##C##_##SUFFIX##_01, T, TARGET, 0, 1) HAL_LIF_PASS(hal_lif_##C##_##SUFFIX##_00, T, TARGET, 0, 0)
    #define HAL_LIF_PASSES(SUFFIX, TARGET) HAL_LIF_PASSES_T(SUFFIX, TARGET, double, d) HAL_LIF_PASSES_T(SUFFIX, TARGET, float, f)
    HAL_LIF_PASSES(base, )
    HAL_LIF_PASSES(avx2, HAL_TARGET_AVX2)
    HAL_LIF_PASSES(avx512, HAL_TARGET_AVX512)

    typedef int (*hal_lif_d_t)(Py_ssize_t, double*, double*, double*, double*, double*, double*, double*, double, double, double,
                               double, double, double, double, double, double, double, double);
    typedef int (*hal_lif_f_t)(Py_ssize_t, float*, float*, float*, float*, float*, float*, float*, float, float, float,
                               float, float, float, float, float, float, float, float);
    #define HAL_PICK(C, SUFFIX) (events ? (refr ? hal_lif_##C##_##SUFFIX##_11 : hal_lif_##C##_##SUFFIX##_10) \
                                        : (refr ? hal_lif_##C##_##SUFFIX##_01 : hal_lif_##C##_##SUFFIX##_00))
    static hal_lif_d_t hal_lif_d(int level, int events, int refr) {
        return level == 2 ? HAL_PICK(d, avx512) : level == 1 ? HAL_PICK(d, avx2) : HAL_PICK(d, base);
    }
    static hal_lif_f_t hal_lif_f(int level, int events, int refr) {
        return level == 2 ? HAL_PICK(f, avx512) : level == 1 ? HAL_PICK(f, avx2) : HAL_PICK(f, base);
    }
    """
    int hal_simd_supported(int level) noexcept nogil
    unsigned int hal_flush_denormals() noexcept nogil
    void hal_restore_fp(unsigned int old) noexcept nogil
    ctypedef int (*hal_lif_d_t)(Py_ssize_t, double*, double*, double*, double*, double*, double*, double*, double, double, double,
                                double, double, double, double, double, double, double, double) noexcept nogil
    ctypedef int (*hal_lif_f_t)(Py_ssize_t, float*, float*, float*, float*, float*, float*, float*, float, float, float,
                                float, float, float, float, float, float, float, float) noexcept nogil
    hal_lif_d_t hal_lif_d(int level, int events, int refr) noexcept nogil
    hal_lif_f_t hal_lif_f(int level, int events, int refr) noexcept nogil


#: SIMD levels by name (the ``simd`` argument of :func:`run_block`).
SIMD_LEVELS = {"baseline": 0, "avx2": 1, "avx512": 2}


def simd_levels():
    """The SIMD levels this CPU runs, best last (names of :data:`SIMD_LEVELS`)."""
    return [name for name, level in SIMD_LEVELS.items() if hal_simd_supported(level)]


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
    # state [neuron, sample], updated in place; refr: refractory time left at the current step's start (steps)
    real[:, ::1] v, real[:, ::1] ge, real[:, ::1] gi, real[:, ::1] ae, real[:, ::1] ai, real[:, ::1] w_ad, real[:, ::1] refr,
    int step0, int n_steps,
    # membrane recording
    int[::1] rec_neuron, int rec_every, real[:, :, ::1] rec_v,
    # output spikes (capacity = out_step.shape[0])
    int[::1] out_step, int[::1] out_neuron, int[::1] out_sample, real[::1] out_offset,
    # ring buffer for delayed neuron spikes: [slot, entry] = (neuron, sample, offset)
    int[:, ::1] ring_neuron, int[:, ::1] ring_sample, real[:, ::1] ring_offset, int[::1] ring_count,
    # scratch, one entry per sample: the membrane at this step's start (after a clamp: the reset)
    real[::1] tmp_v,
    # scratch, one entry per neuron: events arrived in this step; the longest refractory time left of its samples
    signed char[::1] touched, real[::1] refr_max,
    # which compiled LIF pass (SIMD_LEVELS; must be one of simd_levels())
    int simd=0,
):
    """Advance the block from step ``step0`` by up to ``n_steps``; returns (spikes written, steps done).

    It stops early, at the end of a step, when the spike buffer could not hold one more step's
    worst case (every neuron of every sample): the state is then consistent and the caller
    continues from ``step0 + steps done`` with a fresh buffer.
    """
    cdef Py_ssize_t n_neurons = v.shape[0]
    cdef Py_ssize_t n_samples = v.shape[1]
    cdef Py_ssize_t n_slots = ring_count.shape[0]
    cdef Py_ssize_t capacity = out_step.shape[0]
    cdef Py_ssize_t n_rec = rec_neuron.shape[0]
    cdef int delay_steps = <int>delay
    cdef real delay_frac = delay - delay_steps
    cdef Py_ssize_t step, n, s, k, e, slot, tgt, idx, ev, n_out = 0
    cdef real x, g_tot, current, v0, v1, frac, start, remaining, gei, gii, arrive, r
    cdef int pre, sample
    cdef int flagged
    cdef hal_lif_d_t[4] pass_d
    cdef hal_lif_f_t[4] pass_f
    cdef int variant, any_refr
    for variant in range(4):  # index: 2 * events + refractory
        pass_d[variant] = hal_lif_d(simd, variant >> 1, variant & 1)
        pass_f[variant] = hal_lif_f(simd, variant >> 1, variant & 1)
    cdef Py_ssize_t worst = n_neurons * n_samples
    cdef unsigned int fp_state

    if not hal_simd_supported(simd):
        raise ValueError(f"simd level {simd} is not supported by this CPU; supported: {simd_levels()}")
    if capacity < worst:
        raise ValueError(f"spike buffer of {capacity} entries; needs at least {worst} (neurons x samples)")
    with nogil:
        fp_state = hal_flush_denormals()
        for n in range(n_neurons):
            touched[n] = 0
            refr_max[n] = -1
            for s in range(n_samples):
                if refr[n, s] > refr_max[n]:
                    refr_max[n] = refr[n, s]
        step = step0
        while step < step0 + n_steps and n_out + worst <= capacity:
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
                    # 3a. all samples in one vectorised pass (refractory clamps included); it reports whether
                    # any sample reached threshold, and leaves each sample's start value in tmp_v.
                    any_refr = refr_max[n] > 0
                    variant = 2 * touched[n] + any_refr
                    if real is double:
                        flagged = pass_d[variant](
                            n_samples, &v[n, 0], &ge[n, 0], &gi[n, 0], &ae[n, 0], &ai[n, 0], &refr[n, 0], &tmp_v[0],
                            avg_e[n], avg_i[n], h[n], g_l[n], e_l[n], e_e[n], e_i[n], decay_e[n], decay_i[n], v_th[n], v_reset[n])
                    else:
                        flagged = pass_f[variant](
                            n_samples, &v[n, 0], &ge[n, 0], &gi[n, 0], &ae[n, 0], &ai[n, 0], &refr[n, 0], &tmp_v[0],
                            avg_e[n], avg_i[n], h[n], g_l[n], e_l[n], e_e[n], e_i[n], decay_e[n], decay_i[n], v_th[n], v_reset[n])
                    touched[n] = 0
                    if any_refr:
                        refr_max[n] -= 1
                    if flagged:
                        # 3b. spikes (rare): the samples at or above threshold that were not clamped all step
                        for s in range(n_samples):
                            v1 = v[n, s]
                            r = refr[n, s] + 1 if any_refr else 0  # the pass counted the step off already
                            if v1 < v_th[n] or r >= 1:
                                continue
                            start = r if r > 0 else 0
                            frac = _crossing(tmp_v[s], v1, v_th[n], start)
                            v[n, s] = v_reset[n]
                            refr[n, s] = frac + t_ref[n] - 1
                            if refr[n, s] > refr_max[n]:
                                refr_max[n] = refr[n, s]
                            n_out = _emit(n_out, step, n, s, frac, out_step, out_neuron, out_sample, out_offset,
                                          nrn_ptr[n + 1] > nrn_ptr[n], delay_steps, delay_frac, ring_neuron, ring_sample, ring_offset, ring_count)
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
                        r = refr[n, s]
                        refr[n, s] = r - 1 if r > 0 else -1
                        if r > 0:
                            if r >= 1:
                                v[n, s] = v_reset[n]
                                ge[n, s] *= decay_e[n]
                                gi[n, s] *= decay_i[n]
                                w_ad[n, s] -= w_ad[n, s] * inv_tau_w[n]
                                continue
                            start = r
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
                        refr[n, s] = frac + t_ref[n] - 1
                        w_ad[n, s] += b[n]
                        n_out = _emit(n_out, step, n, s, frac, out_step, out_neuron, out_sample, out_offset,
                                      nrn_ptr[n + 1] > nrn_ptr[n], delay_steps, delay_frac, ring_neuron, ring_sample, ring_offset, ring_count)
            # 4. membrane samples at the end of every rec_every-th step
            if n_rec > 0 and (step + 1) % rec_every == 0:
                idx = (step + 1) // rec_every - 1
                if idx < rec_v.shape[2]:
                    for e in range(n_rec):
                        for s in range(n_samples):
                            rec_v[e, s, idx] = v[rec_neuron[e], s]
            step += 1
        hal_restore_fp(fp_state)
    return n_out, step - step0


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
