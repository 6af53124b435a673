package remedy

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/codec"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// Every bad row is named by its line and field, and a file with one bad
// row yields no codes at all.
func TestParseRefusesWithLineNumbers(t *testing.T) {
	in := "Code,Product,Enrollment URL,Enroll By\n" + // aliases
		"A1,credit-monitoring,https://enroll.example.com/,2027-01-31\n" + // line 2: good
		" ,credit-monitoring,https://enroll.example.com/,2027-01-31\n" + // 3: blank code
		"A1,credit-monitoring,https://enroll.example.com/,2027-01-31\n" + // 4: duplicate of line 2
		"A3,credit-monitoring,ftp://enroll.example.com/,2027-01-31\n" + // 5: bad URL
		"A4,credit-monitoring,https://enroll.example.com/,2026-11-29\n" + // 6: past
		"A5,credit-monitoring,https://enroll.example.com/,next year\n" + // 7: not a date
		"\n" +
		"A6,credit-monitoring,https://enroll.example.com/,2027-01-31T00:00:00Z\n" // 9: good
	codes, bad, err := Parse(strings.NewReader(in), now)
	if err != nil {
		t.Fatal(err)
	}
	if codes != nil {
		t.Errorf("%d codes from a file with bad rows", len(codes))
	}
	want := []LineError{{3, "code", ""}, {4, "code", ""}, {5, "enrollment_url", ""}, {6, "enroll_by", ""}, {7, "enroll_by", ""}}
	if len(bad) != len(want) {
		t.Fatalf("bad rows %+v, want lines 3-7", bad)
	}
	for i, w := range want {
		if bad[i].Line != w.Line || bad[i].Field != w.Field || bad[i].Reason == "" {
			t.Errorf("bad[%d] = %+v, want line %d field %s", i, bad[i], w.Line, w.Field)
		}
	}
	if !strings.Contains(bad[1].Reason, "line 2") {
		t.Errorf("the duplicate does not name its first line: %q", bad[1].Reason)
	}
}

func TestParseGoodFile(t *testing.T) {
	codes, bad, err := Parse(strings.NewReader("\uFEFFenroll_by,code,enrollment_url,product\n2027-01-31,Z9,https://e.example.com/x,id-protect\n"), now)
	if err != nil || bad != nil || len(codes) != 1 {
		t.Fatalf("%v %v %v", codes, bad, err)
	}
	c := codes[0]
	if c.Code != "Z9" || c.Product != "id-protect" || !c.EnrollBy.Equal(time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC)) || c.Line != 2 {
		t.Errorf("%+v", c)
	}
}

func TestParseHeader(t *testing.T) {
	if _, _, err := Parse(strings.NewReader("code,product\nA,B\n"), now); err == nil || !strings.Contains(err.Error(), "enrollment_url, enroll_by") {
		t.Errorf("missing columns: %v", err)
	}
	if _, _, err := Parse(strings.NewReader(""), now); err == nil {
		t.Error("an empty file is accepted")
	}
}

// A sealed code opens only for its incident, and the page token is
// stable for a salt, differs across salts, and hashes to what is stored.
func TestSealAndToken(t *testing.T) {
	k, _ := codec.NewKey("k1")
	kr, err := codec.ParseKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{7}, 32)
	rec, err := Seal("BR-AAAAAA", Code{Code: "SECRET-1", Product: "p", EnrollmentURL: "https://x.example/", EnrollBy: now}, kr, key)
	if err != nil || bytes.Contains(rec.CodeSealed, []byte("SECRET-1")) {
		t.Fatalf("seal: %v", err)
	}
	if got, err := Open(rec, kr); err != nil || got != "SECRET-1" {
		t.Fatalf("open: %q %v", got, err)
	}
	rec.IncidentID = "BR-BBBBBB"
	if _, err := Open(rec, kr); err == nil {
		t.Error("a code opened for another incident")
	}
	if CodeHMAC("BR-A", "X", key) == CodeHMAC("BR-B", "X", key) {
		t.Error("the code hash does not depend on the incident")
	}
	a, b := PageToken(key, "BR-A", 1, "s1"), PageToken(key, "BR-A", 1, "s2")
	if a != PageToken(key, "BR-A", 1, "s1") || a == b || !ValidToken(a) || ValidToken(a[:42]) || ValidToken(a[:42]+"!") {
		t.Errorf("tokens %q %q", a, b)
	}
	if TokenHash(a) == a || len(TokenHash(a)) != 64 {
		t.Errorf("hash %q", TokenHash(a))
	}
}
