"""One exam of every active woman of a screening round: attendance, detection and recall.

Called by the screening loop (:mod:`pebs.sim.screening_loop`) with its compact state. Draws are
keyed by (woman, month of age at the exam), so they do not depend on which other women are
examined (common random numbers across strategies). Detection uniforms are drawn only at visits
where a lesion is present (the in-situ phase of a cancer and its invasive phase share one
uniform: they never coexist); the recall hash is compared as integers with 32-bit thresholds
(:func:`pebs.sim._random.threshold_32`: the same event as ``u < p``).
"""

from __future__ import annotations

import functools

import numpy as np

from pebs.screening.policy import MODALITIES
from pebs.sim._random import pair_bits, threshold_32, uniform, uniform_pair
from pebs.sim.cohort import density_code
from pebs.sim.parameters import Parameters
from pebs.sim.performance import age_group, biopsy_table, false_positive_table

_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)


@functools.lru_cache(maxsize=8)
def recall_thresholds(params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """uint64 32-bit thresholds of the false-positive and biopsy tables (:func:`threshold_32`)."""
    out = (threshold_32(false_positive_table(params)), threshold_32(biopsy_table(params)))
    for array in out:
        array.flags.writeable = False
    return out


def examine(result, state, params, keys, exam, mods, settings, tables, countries, valid):
    """Attendance, detection and recall at one exam of each ``valid`` woman (None: all).

    Works on the whole compact state with a mask (``sel``: valid and attending) rather than
    gathering the examined women: draws of the other rows are computed and discarded (they
    are keyed by woman and month, so this changes no draw). Returns the state positions of
    the women with a screen-detected lesion (None if none).
    """
    sens, fps, bxs = tables
    month = np.rint(exam * 12.0).astype(np.uint64)
    ids = state.ids
    attendance = state.attendance
    sel = valid
    if isinstance(attendance, np.ndarray) or attendance < 1.0:
        attends = uniform(keys["attend"], ids, month) < attendance
        sel = attends if sel is None else attends & sel
    visits = exam.size if sel is None else int(np.count_nonzero(sel))
    if visits == 0:
        return None
    e, m = exam, mods
    totals = result.totals
    m_sel = m if sel is None else m[sel]
    for b, name in enumerate(MODALITIES):
        totals[f"screens_{name}"] += int(np.count_nonzero(m_sel & (1 << b)))
    group = age_group(params, e)
    density = density_code(countries, state.country, state.quantile, e)
    cell = (group * 4 + density).astype(np.intp)  # (n,) age group x density
    n_cells = sens.shape[1] * 4
    # lesions present: the progressive cancer (e < clinical is guaranteed by the caller), the
    # in-situ phase before it, or a non-progressive lesion still detectable; detection draws
    # only for those visits
    has_prog = state.onset <= e
    has_np = (state.np_onset <= e) & (e < state.np_end)
    has_lesion = has_prog | has_np
    has_dcis = None
    if state.dcis_onset is not None:
        has_dcis = (state.dcis_onset <= e) & ~has_prog
        has_lesion |= has_dcis
    if sel is not None:
        has_lesion &= sel
    lesion = np.flatnonzero(has_lesion)
    found = None
    detected = None
    if lesion.size:
        u_prog, u_np = uniform_pair(keys["detect"], ids[lesion], month[lesion])
        p_detect = sens.reshape(-1).take(m[lesion].astype(np.intp) * n_cells + cell[lesion])
        found_prog = has_prog[lesion] & (u_prog < p_detect)
        found_np = has_np[lesion] & ~found_prog & (u_np < p_detect)
        is_found = found_prog | found_np
        if has_dcis is not None:
            # the in-situ phase ends where the invasive one starts: the same uniform serves
            found_dcis = has_dcis[lesion] & (u_prog < p_detect)
            found_np &= ~found_dcis
            is_found = found_prog | found_np | found_dcis
        detected = lesion[is_found]
        found = np.zeros(exam.size, bool)
        found[detected] = True
        hit = state.pos[lesion]
        result.screen_progressive[hit[found_prog]] = True
        result.screen_non_progressive[hit[found_np]] = True
        if has_dcis is not None:
            result.screen_dcis[hit[found_dcis]] = True
        result.screen_age[hit[is_found]] = e[detected]
        totals["lesion_visits"] += int(lesion.size)
        totals["lesion_detected"] += int(detected.size)
    prev = state.prev
    first = np.isnan(prev)
    kind = np.where(first, 0, np.where(e - prev < params.fp_short_interval_years, 2, 1))
    # recall: high 32 bits of one hash against the false-positive threshold, low 32 bits
    # against the biopsy threshold (integer form of uniform_pair(...) < p)
    bits = pair_bits(keys["recall"], ids, month)
    if settings.size == 1 or (settings == settings[0]).all():
        setting = int(settings[0])
        fp_cell = (kind * fps.shape[2] + m) * n_cells + cell
        t_fp = fps[setting].reshape(-1).take(fp_cell)
    else:
        setting = settings[state.country.astype(np.intp)]
        t_fp = fps[setting, kind, m, group, density]
    is_fp = (bits >> _S32) < t_fp
    if found is not None:
        is_fp &= ~found
    if sel is not None:
        is_fp &= sel
    fp_at = np.flatnonzero(is_fp)
    later = np.minimum(kind[fp_at], 1)
    t_bx = bxs[setting, later] if isinstance(setting, int) else bxs[setting[fp_at], later]
    is_bx = (bits[fp_at] & _LOW32) < t_bx
    where = state.pos[fp_at]
    result.n_false_positives[where] += 1
    result.n_biopsies[where[is_bx]] += 1
    if sel is None:
        state.n_scr += 1
        state.prev = e
        attended_first = first
        attended_short = kind == 2
    else:
        state.n_scr += sel
        state.prev = np.where(sel, e, prev)
        attended_first = first & sel
        attended_short = (kind == 2) & sel
    totals["visits"] += visits
    totals["first_visits"] += int(np.count_nonzero(attended_first))
    totals["false_positives_first"] += int(np.count_nonzero(is_fp & first))
    totals["visits_short"] += int(np.count_nonzero(attended_short))
    totals["false_positives_short"] += int(np.count_nonzero(is_fp & attended_short))
    return detected
