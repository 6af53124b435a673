// Package templates renders what breachflow writes for people: draft regulator
// notifications (Markdown and a self-contained HTML document) and the reminder,
// overdue and escalation mails of the incident clocks.
//
// The templates are embedded files under report/ and mail/. Markdown and plain
// text use text/template, with every piece of user text passed through a
// Markdown escaper or a header-safe cleaner; HTML uses html/template, so user
// text is escaped by context. Rendering is pure: the caller passes the time
// ("now") in, so the same input always gives the same bytes (golden-file tests
// rely on it).
//
// A report is built as a view (header, warnings, one section per content field
// the rule requires) before any template runs. Each content field of
// regulations' vocabulary has its own builder that says whether the incident
// can fill it yet; a field the builder cannot fill is listed under "Missing
// before filing" and returned in Report.Missing, so legal sees at a glance what
// is still to be gathered before the filing.
package templates
