// Package playbooks parses, validates and serves breach-response playbooks:
// versioned YAML files whose steps form a DAG that the Incident workflow
// interprets.
//
// Three playbooks are embedded in the binary (customer-data-breach,
// insider-exfiltration, ransomware-extortion). Files in the directory named
// by BREACHFLOW_PLAYBOOK_DIR (see Load) add playbooks or replace embedded
// ones with the same id. A launch pins the playbook it used: the workflow
// receives the whole Playbook as JSON, so later edits never reach running
// incidents. Bump version on every change and record Digest for audit.
//
// # File format
//
// playbook.schema.json (Schema) describes the format for editors. A file
// holds one YAML document:
//
//	id: customer-data-breach          # [a-z0-9]+(-[a-z0-9]+)*; the launch key
//	version: 3                        # integer >= 1
//	title: Customer data breach
//	description: Free text.           # optional
//	reminders: [4h, 1h]               # default reminders BEFORE each step's due time
//	escalation: {to: admin, every: 4h} # default escalation AFTER each step's due time
//	tiering:                          # customer-tier thresholds, each optional
//	  high_annual_value: 100000       # high if annual value >= this ...
//	  high_years: 5                   # ... or years as a customer >= this
//	  medium_annual_value: 10000      # medium if annual value >= this, else low
//	steps:
//	  - id: assess-risk               # [a-z0-9_-]+, unique in the playbook
//	    title: Legal risk assessment
//	    kind: task                    # see the kinds below
//	    owner: legal                  # responder | legal | admin
//	    description: |                # instructions shown to the owner
//	      Decide none, risk or high, with reasons ...
//	    after: [scope-impact]         # ready when all of these are done or skipped
//	    when: [{risk: [high]}, {duty: subjects}] # runs if ANY clause holds, else skipped
//	    due: {after: 48h, from: aware} # from: launch | aware | start (step became ready)
//	    reminders: [12h, 4h]          # overrides the playbook default
//	    escalation: {to: admin, every: 2h}
//	    requires: [risk]              # facts that must be set before completion
//	    optional: false               # true: does not block closing the incident
//	    reports_as: assessment        # what its note stands for in reports (ReportRoles)
//
// Durations are digits and a unit, largest unit first: 90m, 4h, 2h30m,
// 3d (exactly 72h), 1w, 1d12h; s is accepted too. They must be positive.
//
// A clause sets one or more of risk (a list of risk levels), duty (a
// recipient: some obligation with that recipient exists) and flag; all set
// fields must hold. requires names facts that must be known before the step
// completes (risk: assessed, affected: counts known, a time: set). Risk
// levels, recipients, flags and fact names are those of internal/breach's
// facts table, listed in docs/api.md.
//
// Step kinds:
//
//   - task: a human does something and completes the step.
//   - approval: the owner approves or rejects; on_reject lists earlier steps
//     (ancestors through after) reopened on rejection, and the approval then
//     waits for them again.
//   - action: calls the signed containment webhook named by action
//     (disable-account, rotate-credentials, block-ip, isolate-host, ...);
//     action is required here and refused on every other kind.
//   - scope: affected customers are imported and counted.
//   - regulator_notices: the incident's regulator obligations are filed.
//   - customer_notices: the notice fan-out to affected customers.
//   - outreach: account managers contact high-tier customers; hold (only on
//     this kind) is the longest its dependents wait for it.
//   - remediation: remediation items are tracked to done.
//   - review: the post-incident review.
//
// reports_as tells the report and notice templates what a step's note and
// completion stand for: containment, mitigation, assessment, cause or
// root_cause (ReportRoles). A step that declares none reports nothing,
// except that the step ids the shipped playbooks used before reports_as
// existed keep their old role (LegacyReportsAs), so incidents pinned then
// report as they always did.
//
// Parse is strict: unknown or duplicate keys, anchors and aliases, a second
// YAML document, schema violations and semantic errors (duplicate step ids,
// after naming unknown steps, cycles, unknown roles, kinds, anchors, clause
// values, facts or reports_as values, bad durations, reminders or escalation
// on a step without due) are all reported together, each as
// "file:line: field: message" with field paths like steps[3].after[0].
package playbooks
