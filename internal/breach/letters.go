package breach

// LetterCount is how many of an incident's customers still wait for a
// letter: Waiting need one and are in no batch; Pending are in a batch
// not yet handed to the printer.
type LetterCount struct {
	Waiting int `json:"waiting"`
	Pending int `json:"pending"`
}
