package breach

// LetterCount is how many of an incident's customers still wait for a
// letter: Waiting need one and are in no batch; Pending are in a batch
// not yet handed to the printer.
type LetterCount struct {
	Waiting int `json:"waiting"`
	Pending int `json:"pending"`
}

// Reach is how an incident's customers were reached, one channel per
// customer: Email (the email notice was sent), Letter (the letter went to
// the printer, the email having failed or there being none), Substitute
// (covered by a substitute notice), Failed (nobody could reach them; the
// email notice, and the letter where there was one, failed with a recorded
// reason), or Pending (not settled yet: not sent, or waiting for a letter).
// Counts only: never who.
type Reach struct {
	Email      int `json:"email"`
	Letter     int `json:"letter"`
	Substitute int `json:"substitute"`
	Failed     int `json:"failed"`
	Pending    int `json:"pending"`
}

// Total is every customer counted.
func (r Reach) Total() int { return r.Email + r.Letter + r.Substitute + r.Failed + r.Pending }

// Add sums two counts.
func (r Reach) Add(o Reach) Reach {
	return Reach{Email: r.Email + o.Email, Letter: r.Letter + o.Letter, Substitute: r.Substitute + o.Substitute,
		Failed: r.Failed + o.Failed, Pending: r.Pending + o.Pending}
}
