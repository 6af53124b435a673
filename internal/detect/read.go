package detect

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Log formats.
const (
	FormatSalesforce = "salesforce" // Event Monitoring EventLogFile CSV
	FormatHubSpot    = "hubspot"    // audit-log export CSV
	FormatJSONLines  = "jsonl"      // generic access log, one JSON object a line
)

// Formats lists the log formats.
var Formats = []string{FormatSalesforce, FormatHubSpot, FormatJSONLines}

// Actions an event is normalised to.
const (
	ActionExport = "export"
	ActionRead   = "read"
)

// Event is one access, normalised from any log format.
type Event struct {
	Line    int
	Time    time.Time
	User    string // the CRM user's id
	Action  string // ActionExport or ActionRead
	Object  string // report, record or entity id
	Records int64
	Tier    string // customer tier when the log says so
	Owner   string // the customer's account manager (user id) when the log says so
}

// Problem is one line the detector could not use, or used with a caveat.
type Problem struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// maxProblems bounds the problems a report lists; the count covers all.
const maxProblems = 200

// reader collects problems while a format reads events.
type reader struct {
	problems []Problem
	count    int
	last     time.Time
	lastLine int
}

func (r *reader) problem(line int, format string, args ...any) {
	r.count++
	if len(r.problems) < maxProblems {
		r.problems = append(r.problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
	}
}

// order notes an event earlier than one before it: still counted (the
// rules aggregate by day), but reported, since a log out of order may be
// a log tampered with or merged wrongly.
func (r *reader) order(e Event) {
	if !r.last.IsZero() && e.Time.Before(r.last) {
		r.problem(e.Line, "timestamp %s is earlier than line %d's %s (out of order; counted)", e.Time.Format(time.RFC3339), r.lastLine, r.last.Format(time.RFC3339))
		return
	}
	r.last, r.lastLine = e.Time, e.Line
}

// read parses a log of format, calling fn for each good event.
func (r *reader) read(format string, in io.Reader, fn func(Event)) error {
	switch format {
	case FormatSalesforce:
		return r.csv(in, salesforceColumns, salesforceEvent, fn)
	case FormatHubSpot:
		return r.csv(in, hubspotColumns, hubspotEvent, fn)
	case FormatJSONLines:
		return r.jsonl(in, fn)
	}
	return fmt.Errorf("unknown log format %q; use one of %s", format, strings.Join(Formats, ", "))
}

// columns maps a field to the header names that carry it, first wins.
type columns map[string][]string

var salesforceColumns = columns{
	"type":    {"EVENT_TYPE"},
	"time":    {"TIMESTAMP_DERIVED", "TIMESTAMP"},
	"user":    {"USER_ID_DERIVED", "USER_ID"},
	"object":  {"REPORT_ID_DERIVED", "REPORT_ID", "ENTITY_NAME", "ENTITY_TYPE"},
	"records": {"ROW_COUNT", "ROWS_PROCESSED", "NUMBER_OF_RECORDS", "RECORDS_PROCESSED"},
}

var hubspotColumns = columns{
	"type":    {"Category", "Action"},
	"time":    {"Occurred At", "Timestamp", "Date"},
	"user":    {"Acting User ID", "User ID", "Acting User"},
	"object":  {"Object ID", "Object"},
	"records": {"Record Count", "Records", "Number of Records"},
}

var requiredColumns = []string{"type", "time", "user"}

// csv reads a CSV log with a header; row holds the fields by name.
func (r *reader) csv(in io.Reader, cols columns, mk func(row map[string]string) (Event, bool, error), fn func(Event)) error {
	br := bufio.NewReaderSize(in, 64<<10)
	if bom, _ := br.Peek(2); bytes.Equal(bom, []byte{0xFF, 0xFE}) || bytes.Equal(bom, []byte{0xFE, 0xFF}) {
		r.problem(1, "the file is UTF-16; export it as UTF-8")
		return nil
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		r.problem(1, "no header: %v", err)
		return nil
	}
	// Each field may come from several columns (BulkApi rows fill
	// ROWS_PROCESSED, reports ROW_COUNT): a row takes the first non-empty.
	index := map[string][]int{}
	for field, names := range cols {
		for _, name := range names {
			for i, h := range header {
				if strings.EqualFold(strings.TrimSpace(h), name) {
					index[field] = append(index[field], i)
				}
			}
		}
	}
	var missing []string
	for _, f := range requiredColumns {
		if _, ok := index[f]; !ok {
			missing = append(missing, strings.Join(cols[f], " or "))
		}
	}
	if len(missing) > 0 {
		r.problem(1, "wrong header: missing %s", strings.Join(missing, "; "))
		return nil
	}
	row := map[string]string{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			r.problem(perr.StartLine, "not CSV: %v", perr.Err)
			continue
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			r.problem(line, "%d fields, the header has %d", len(rec), len(header))
			continue
		}
		valid := true
		for _, f := range rec {
			if !utf8.ValidString(f) {
				valid = false
				break
			}
		}
		if !valid {
			r.problem(line, "not UTF-8 (a mixed encoding?); line skipped")
			continue
		}
		clear(row)
		for field, is := range index {
			for _, i := range is {
				if v := strings.TrimSpace(rec[i]); v != "" {
					row[field] = v
					break
				}
			}
		}
		e, ok, err := mk(row)
		if err != nil {
			r.problem(line, "%v", err)
			continue
		}
		if !ok {
			continue // an event type the rules do not look at
		}
		e.Line = line
		r.order(e)
		fn(e)
	}
}

// salesforceTimes are EventLogFile's two timestamp forms.
func salesforceTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("20060102150405.000", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("TIMESTAMP %q is neither 20061123021000.000 nor RFC 3339", s)
	}
	return t.UTC(), nil
}

func records(s string) (int64, error) {
	if s == "" {
		return 1, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("record count %q is not a number", s)
	}
	return n, nil
}

func salesforceEvent(row map[string]string) (Event, bool, error) {
	var e Event
	switch row["type"] {
	case "ReportExport", "BulkApi", "BulkApi2":
		e.Action = ActionExport
	case "API", "RestApi", "Report":
		e.Action = ActionRead
	default:
		return e, false, nil
	}
	var err error
	if e.Time, err = salesforceTime(row["time"]); err != nil {
		return e, false, err
	}
	if e.User = row["user"]; e.User == "" {
		return e, false, errors.New("USER_ID is empty")
	}
	e.Object = row["object"]
	if e.Records, err = records(row["records"]); err != nil {
		return e, false, err
	}
	return e, true, nil
}

func hubspotEvent(row map[string]string) (Event, bool, error) {
	var e Event
	kind := strings.ToLower(row["type"])
	switch {
	case strings.Contains(kind, "export"):
		e.Action = ActionExport
	case strings.Contains(kind, "view"), strings.Contains(kind, "read"):
		e.Action = ActionRead
	default:
		return e, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, row["time"])
	if err != nil {
		if t, err = time.Parse("2006-01-02 15:04:05", row["time"]); err != nil {
			return e, false, fmt.Errorf("time %q is not RFC 3339 or 2006-01-02 15:04:05 (UTC)", row["time"])
		}
	}
	e.Time = t.UTC()
	e.User = pseudonym(row["user"])
	if e.User == "" {
		return e, false, errors.New("user is empty")
	}
	e.Object = row["object"]
	if e.Records, err = records(row["records"]); err != nil {
		return e, false, err
	}
	return e, true, nil
}

// jsonEvent is one line of the generic access log.
type jsonEvent struct {
	User    string    `json:"user"`
	Time    time.Time `json:"time"`
	Action  string    `json:"action"`
	Object  string    `json:"object"`
	Records *int64    `json:"records"`
	Tier    string    `json:"tier"`
	Owner   string    `json:"owner"`
}

func (r *reader) jsonl(in io.Reader, fn func(Event)) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			r.problem(line, "not UTF-8 (a mixed encoding?); line skipped")
			continue
		}
		var j jsonEvent
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			r.problem(line, "not a JSON access event: %v", strings.TrimPrefix(err.Error(), "json: "))
			continue
		}
		e := Event{Line: line, Time: j.Time.UTC(), User: pseudonym(j.User), Object: j.Object, Records: 1, Tier: j.Tier, Owner: pseudonym(j.Owner)}
		if j.Records != nil {
			e.Records = *j.Records
		}
		switch j.Action {
		case ActionExport, ActionRead:
			e.Action = j.Action
		default:
			r.problem(line, "action %q is not export or read", j.Action)
			continue
		}
		if e.User == "" || j.Time.IsZero() || e.Records < 0 {
			r.problem(line, "user and time are required, records must not be negative")
			continue
		}
		r.order(e)
		fn(e)
	}
	if err := sc.Err(); err != nil {
		r.problem(line+1, "%v", err)
	}
	return nil
}
