package playbooks

import (
	"encoding/json"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		str  string // canonical String()
	}{
		{"90m", 90 * time.Minute, "1h30m"},
		{"4h", 4 * time.Hour, "4h"},
		{"2h30m", 150 * time.Minute, "2h30m"},
		{"3d", 72 * time.Hour, "3d"},
		{"1w", 7 * 24 * time.Hour, "1w"},
		{"1d12h", 36 * time.Hour, "1d12h"},
		{"36h", 36 * time.Hour, "1d12h"},
		{"14d", 14 * 24 * time.Hour, "2w"},
		{"45s", 45 * time.Second, "45s"},
		{"0m", 0, "0s"},
		{"1w2d3h4m5s", 9*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second, "1w2d3h4m5s"},
	}
	for _, tt := range tests {
		d, err := ParseDuration(tt.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", tt.in, err)
			continue
		}
		if d.D() != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, d.D(), tt.want)
		}
		if d.String() != tt.str {
			t.Errorf("%q.String() = %q, want %q", tt.in, d.String(), tt.str)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", d.String(), back, err, d)
		}
	}
}

func TestParseDurationRejects(t *testing.T) {
	for _, in := range []string{"", "4", "h", "4 h", "4H", "1.5h", "-4h", "30m2h", "1h1h", "4hours", "1y", "9999999999h", "99999w"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	type wrap struct {
		D Duration  `json:"d"`
		P *Duration `json:"p"`
	}
	h := Duration(48 * time.Hour)
	in := wrap{D: Duration(90 * time.Minute), P: &h}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"d":"1h30m","p":"2d"}` {
		t.Errorf("Marshal = %s", b)
	}
	var out wrap
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.D != in.D || *out.P != *in.P {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
	for _, bad := range []string{`{"d":5400000000000}`, `{"d":"soon"}`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	var v struct {
		D Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 3d\n"), &v); err != nil || v.D.D() != 72*time.Hour {
		t.Fatalf("Unmarshal = %v, %v", v.D, err)
	}
	b, err := yaml.Marshal(v)
	if err != nil || string(b) != "d: 3d\n" {
		t.Errorf("Marshal = %q, %v", b, err)
	}
	if err := yaml.Unmarshal([]byte("d: 3 days\n"), &v); err == nil {
		t.Error("Unmarshal accepted \"3 days\"")
	}
}
