package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docFiles are the pages a newcomer follows as written.
func docFiles(t *testing.T) map[string]string {
	t.Helper()
	names, _ := filepath.Glob("../../docs/*.md")
	names = append(names, "../../README.md")
	out := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(n)] = string(b)
	}
	return out
}

// shellCommands joins the backslash-continued lines of every fenced sh block.
func shellCommands(doc string) []string {
	var cmds []string
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(doc, -1) {
		cur := ""
		for line := range strings.SplitSeq(block[1], "\n") {
			cur += strings.TrimSpace(line)
			if strings.HasSuffix(cur, "\\") {
				cur = strings.TrimSuffix(cur, "\\") + " "
				continue
			}
			if cur != "" {
				cmds = append(cmds, cur)
			}
			cur = ""
		}
	}
	return cmds
}

// TestDocsCurlSendsContentType: the API answers 415 to a body without
// its Content-Type, so every documented curl that sends one names it.
func TestDocsCurlSendsContentType(t *testing.T) {
	n := 0
	for name, doc := range docFiles(t) {
		for _, c := range shellCommands(doc) {
			if !strings.HasPrefix(c, "curl ") || !regexp.MustCompile(` (-d|--data[a-z-]*) `).MatchString(c) {
				continue
			}
			n++
			if !strings.Contains(c, "Content-Type: ") {
				t.Errorf("%s: curl sends a body without a Content-Type (the API answers 415):\n%s", name, c)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d curl commands with a body; is the extraction broken?", n)
	}
}

// TestMakeBenchRunsARealCommand: `make bench` runs a breachflow
// subcommand that exists, with flags it takes.
func TestMakeBenchRunsARealCommand(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^bench:.*\n\t(.*)$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("no bench target with a recipe")
	}
	args := strings.Fields(m[1])
	if len(args) < 4 || strings.Join(args[:3], " ") != "go run ./cmd/breachflow" {
		t.Fatalf("bench recipe %q does not run breachflow", m[1])
	}
	root := rootCommand()
	cmd, rest, err := root.Find(args[3:])
	if err != nil || cmd == root {
		t.Fatalf("bench recipe %q: no such command: %v", m[1], err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("bench recipe %q: %v", m[1], err)
	}
}

// TestReadmeSlackHasAHeading: the Slack set-up is findable from the
// README's outline.
func TestReadmeSlackHasAHeading(t *testing.T) {
	readme := docFiles(t)["README.md"]
	i := strings.Index(readme, "With a Slack app installed")
	if i < 0 {
		t.Fatal("the README no longer describes Slack")
	}
	headings := regexp.MustCompile(`(?m)^#{2,3} .*$`).FindAllStringIndex(readme[:i], -1)
	if len(headings) == 0 || !strings.Contains(readme[headings[len(headings)-1][0]:headings[len(headings)-1][1]], "Slack") {
		t.Fatal("the README's Slack section has no heading of its own")
	}
}
