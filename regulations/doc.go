// Package regulations turns an incident's facts into its breach-notification
// obligations: to whom, under which law, due when.
//
// The rules are data (rules.yaml, embedded and validated at load): each names its
// regime, jurisdiction, recipient, clock anchor, deadline and counting unit,
// thresholds, required content fields, source URLs, effective dates and whether
// the reference marked it [verify] (needs_legal_confirmation). Evaluate is pure:
// the same facts always give the same obligations, so the workflow simply calls it
// again whenever facts change.
//
// Decisions a reader should know:
//
//   - A fact a rule needs but the incident lacks is never guessed. The obligation
//     is still produced, DueAt is nil when the clock's anchor is missing, and the
//     fact is listed in MissingFacts (e.g. "materiality_at", "affected.US-TX",
//     "risk", "filed.nis2-notification"). When only a threshold or the risk level
//     is unknown but the anchor is known, DueAt is computed, so legal sees the
//     clock that runs if the duty applies.
//   - A rule applies when aware_at falls within its effective_from/effective_until:
//     the law in force when the organisation became aware governs the incident.
//   - A rule with enforceable_from (India DPDP, 13 May 2027 [verify]) is still
//     evaluated before that date, with a note that it is not yet enforceable, so
//     the duty is visible if the date moves rather than silently absent.
//   - "Without undue delay"-style standards are kept in Standard; DueAt carries the
//     outer limit when the law has one (GDPR Art. 33: aware_at + 72 h) and is nil
//     when it has none ("as soon as feasible").
//   - Exemptions (GDPR Art. 34(3)(a) for encrypted data) keep the obligation with
//     Exempt set and the reason in Note, for the record; DueAt is nil.
//   - Phased reports that run from an earlier filing (NIS2 final, DORA
//     intermediate/final, ANPD supplement) read Facts.Filed[obligation id].
//
// Day-count conventions are documented in clock.go: hours are continuous; day,
// business-day and month limits end at 23:59:59 local time of the last day in the
// jurisdiction's IANA zone; business days skip weekends and public holidays from
// github.com/rickar/cal/v2.
package regulations
