// Package breach holds breachflow's domain nouns: an incident's facts and
// status, its steps and obligations, who acts (Actor, roles), the inputs
// of every human action, and the types a customer-notice batch carries.
// The API, the workflows, the activities, the templates and the store all
// speak these types; the package imports nothing of breachflow's own, so
// the import graph runs one way and the workflows never link a database.
package breach
