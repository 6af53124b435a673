package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// docBlock is one fenced sh/bash/shell block of a page.
type docBlock struct {
	file string // README.md, docs/api.md, …
	line int    // of the opening fence
	text string // without the fences and the list indentation
}

func (b docBlock) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// docBlockRule classifies one block: run it, or skip it with a reason.
type docBlockRule struct {
	file string
	// match is text only this block of the file contains (the whole
	// block's text wins over a longer block that also contains it).
	match string
	// skip says why the block is not run; empty runs it.
	skip string
	// before brings the doc's incident to the state the block assumes,
	// doing what a reader does between the page's sections (working the
	// playbook's other steps). It says what it did in the test log.
	before func(*docSession)
	// refused: the block's last curl is answered with this status, as the
	// page says next to it; every earlier command succeeds.
	refused int
}

// docBlockRules classifies every fenced shell block of README.md and
// docs/*.md, in page order. A block that matches no rule fails
// TestDocsShellBlocksClassified (and TestDocsCommandsRun) with its
// file:line, its text and a rule to start from; so does a rule that matches
// no block or several.
var docBlockRules = []docBlockRule{
	{file: "README.md", match: "go run ./cmd/breachflow dev", skip: "starts the dev stack, which this test has already started"},
	{file: "README.md", match: "go test ./...", skip: "this is that run"},
	{file: "README.md", match: "# Launch the customer-data-breach playbook"},
	{file: "README.md", match: "go install ./cmd/breachflow"},
	{file: "README.md", match: "/dev/outbox"},
	{file: "README.md", match: "BREACHFLOW_SLACK_TOKEN=xoxb-", skip: "needs a Slack workspace; TestSlack* run the stack against a fake Slack API"},
	{file: "README.md", match: "bench notify --subjects 100000", skip: "100,000 customers take minutes; TestBenchNotifyRuns runs it with 300"},

	{file: "docs/api.md", match: "auth=(-H \"Authorization: Bearer $TOKEN\")"},
	{file: "docs/api.md", match: "breachflow token create --role legal"},
	{file: "docs/api.md", match: `"expires_in": "720h"`},
	{file: "docs/api.md", match: "/members/lena-legal", skip: "the page's incident is not restricted, so it has no members; TestRestrictedIncidentInvisibleToNonMembers adds and removes members on the dev stack"},
	{file: "docs/api.md", match: "Idempotency-Key: siem-4411-launch"},
	{file: "docs/api.md", match: "page_token=<next_page_token>"},
	{file: "docs/api.md", match: `"determined_at"`},
	{file: "docs/api.md", match: `"risk": "high"`},
	{file: "docs/api.md", match: "steps/contain-source/complete", before: completeSteps("triage")},
	{file: "docs/api.md", match: "steps/approve-notice/decide", before: inOrder(importSubjects, completeSteps("preserve-evidence", "scope-impact", "assess-risk", "draft-notice"))},
	{file: "docs/api.md", match: "obligations/gdpr-art34/waive"},
	{file: "docs/api.md", match: "/remediations/<rid>/done"},
	{file: "docs/api.md", match: `/close"`, refused: 409},
	{file: "docs/api.md", match: `/audit"`},
	{file: "docs/api.md", match: "/v1/playbooks/customer-data-breach"},
	{file: "docs/api.md", match: "@crm-export.csv"},
	{file: "docs/api.md", match: "/notices/texts/zh-CN"},
	{file: "docs/api.md", match: "/outreach?status=open"},
	{file: "docs/api.md", match: "/notices/report", before: inOrder(completeSteps("draft-notice"), approveNotice)},
	{file: "docs/api.md", match: "/v1/deadlines?within=24h"},
	{file: "docs/api.md", match: "calendar-tokens/<cid>/revoke"},
	{file: "docs/api.md", match: "breachflow incident launch"},

	{file: "docs/audit.md", match: "breachflow audit verify BR-7K3F9Q", skip: "needs the dev stack's Temporal address; TestAuditVerify runs this command against the test's stack"},
	{file: "docs/audit.md", match: "audit verify --file", skip: "TestAuditVerify saves the same export and verifies it"},
	{file: "docs/alerts.md", match: "Unusual login location for a CRM admin"},
	{file: "docs/alerts.md", match: "?format=alertmanager"},
	{file: "docs/alerts.md", match: "?format=splunk"},
	{file: "docs/alerts.md", match: "X-Breachflow-Signature: sha256=$sig", skip: "needs a source with a signing secret; TestAlertRefusalsStoreNothing signs bodies and checks refusals"},
	{file: "docs/alerts.md", match: "breachflow alerts validate"},
	{file: "docs/alerts.md", match: "breachflow alerts show 1"},
	{file: "docs/alerts.md", match: "breachflow alerts dismiss 3"},
	{file: "docs/alerts.md", match: "/v1/alerts/3/attach", refused: 409},
	{file: "docs/alerts.md", match: "breachflow detect --send"},
	{file: "docs/alerts.md", match: "bench detect --events 100000"},
	{file: "docs/alerts.md", match: "bench alerts --copies", skip: "starts a second embedded stack and sends 20,000 alerts; TestAlertIntakeEndToEnd sends 1,050"},

	{file: "docs/configuration.md", match: "openssl rand -base64 32"},
	{file: "docs/configuration.md", match: "BREACHFLOW_TEMPORAL_TLS_CA=/etc/breachflow/temporal-ca.pem", skip: "needs a Temporal cluster behind TLS; TestTemporalTrustBoundary dials the embedded one through TLS and mTLS proxies with the same variables"},
	{file: "docs/configuration.md", match: "tmprl.cloud", skip: "needs a Temporal Cloud namespace; TestTemporalTrustBoundary dials through a proxy that checks the API key"},
	{file: "docs/legal.md", match: "breachflow assess --jurisdiction US-CA"},
	{file: "docs/legal.md", match: "/v1/assessments"},
	{file: "docs/legal.md", match: "breachflow assess --incident"},
	{file: "docs/legal.md", match: "breachflow incident patch"},
	{file: "docs/legal.md", match: "breachflow incident hold"},
	{file: "docs/legal.md", match: "/subjects?reason=retention", refused: 409},
	{file: "docs/legal.md", match: "/hold/lift"},
	{file: "docs/legal.md", match: "breachflow evidence export"},
	{file: "docs/deploy.md", match: "make cluster                 # or: deploy/cluster.sh start", skip: "starts Temporal's server and four breachflow processes; TestCluster runs this script"},
	{file: "docs/deploy.md", match: "cp deploy/env.example .env"},
	{file: "docs/deploy.md", match: "docker compose up -d --build", skip: "needs a Docker engine, which CI does not have"},
	{file: "docs/deploy.md", match: "docker compose run --rm server token create", skip: "no Docker engine in CI; docs/api.md's token create runs the same command"},
	{file: "docs/deploy.md", match: "@db.internal:5432/breachflow", skip: "names a production database; the next block needs it"},
	{file: "docs/deploy.md", match: "breachflow migrate", skip: "migrates a production PostgreSQL; the store suite migrates the test PostgreSQL"},
	{file: "docs/deploy.md", match: "temporal operator search-attribute create", skip: "needs the temporal CLI and a cluster; dev registers the same attributes (workflows.EnsureSearchAttributes)"},
	{file: "docs/deploy.md", match: "BREACHFLOW_TEMPORAL_ADDRESS=temporal-frontend.internal:7233", skip: "starts server and worker against a production cluster; the dev stack runs the same parts"},
	{file: "docs/deploy.md", match: "breachflow replay --open", skip: "replays a production cluster's workflows; TestCluster's roll drill runs breachflow replay against its cluster and TestReplayCommand replays saved histories"},
	{file: "docs/playbooks.md", match: "playbook validate my-playbooks/*.yaml"},
	{file: "docs/letters.md", match: "a batch of everyone waiting", skip: "needs customers whose email failed and fonts; TestCustomersEndToEnd makes the same requests"},
	{file: "docs/letters.md", match: "letters/1/letters.pdf", skip: "needs a batch and an approved access grant; TestCustomersEndToEnd downloads both"},
	{file: "docs/letters.md", match: "MAILHOUSE-2026-118", skip: "needs a printed batch; TestCustomersEndToEnd records the handoff and a return"},
	{file: "docs/letters.md", match: "substitute-notice?locale=zh-CN", skip: "needs customers nobody reached; TestCustomersEndToEnd decides the same substitute notice"},
}

// docSourceToken is the alert source docs/alerts.md sends as; the test
// dev stack declares it (devConfig).
const docSourceToken = "tok-monitoring-0000000001"

// docClock is the moment the pages' examples are written at: every
// RFC 3339 time in a block moves by (now - docClock), so the story keeps
// its order and spacing (aware on the 23rd, filed on the 25th) and its past
// stays in the past whenever the test runs.
var docClock = time.Date(2026, 11, 25, 16, 30, 0, 0, time.UTC)

// docPlaceholders are the pages' stand-ins and what stands in for them in
// the run: shell expressions of the prelude (docShellPrelude), or a value
// of the run in braces (docScript).
var docPlaceholders = map[string][][2]string{
	"": { // every page
		{"export TOKEN=…", "export TOKEN={admin token}"},
		{"bf_…", "{admin token}"},
		{"http://127.0.0.1:8080", "{API URL}"},
	},
	"README.md": {
		{"BR-XXXXXX", "$DOC_INCIDENT"},
	},
	"docs/api.md": {
		{"BR-7K3F9Q", "$DOC_INCIDENT"},
		{"<next_page_token>", "$(doc_json '.next_page_token // empty')"},
		{"<rid>", "$(doc_json '.remediations[-1].id')"},
		{"<tid>", "$(doc_json '.tokens[-1].id')"},
		{"<cid>", "$(doc_json '.calendar_tokens[-1].id')"},
		{"outreach/17", "outreach/$(doc_json '.tasks[0].id')"},
		{"grants/7/approve", "grants/$(doc_json '.id')/approve"},
	},
	"docs/playbooks.md": {
		{"my-playbooks/*.yaml", "playbooks/*.yaml"},
	},
	"docs/legal.md": {
		{"BR-7K3F9Q", "$DOC_INCIDENT"},
	},
}

// docShellPrelude runs before a page's first block. Its curl fails on an
// HTTP error (and prints the problem), keeps the last answer for doc_json,
// and, like breachflow, remembers the incident a launch created.
const docShellPrelude = `set -eo pipefail
doc_json() { jq -r "$1" "$DOC_DIR/body"; }
curl() {
  local rc=0
  command curl --fail-with-body --max-time 60 -o "$DOC_DIR/body" -w '%{http_code}' "$@" >"$DOC_DIR/code" || rc=$?
  cat "$DOC_DIR/body"; echo
  echo "$(cat "$DOC_DIR/code")" >>"$DOC_DIR/codes"
  if [ "$rc" != 0 ]; then echo "curl: HTTP $(cat "$DOC_DIR/code"), exit $rc" >&2; return "$rc"; fi
  local a
  for a; do
    case "$a" in */v1/incidents) DOC_INCIDENT=$(jq -r '.id // empty' "$DOC_DIR/body") ;; esac
  done
}
breachflow() {
  command breachflow "$@" | tee "$DOC_DIR/body"
  if [ "$1 $2" = "incident launch" ]; then
    DOC_INCIDENT=$(grep -o 'BR-[0-9A-Z]*' "$DOC_DIR/body" | head -n1)
  fi
}
`

// docSession is one page's shell, against the test's dev stack.
type docSession struct {
	t     *testing.T
	stack *devStack
	api   apiClient
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	n     int
}

func (s *docSession) start(ctx context.Context, workdir string, env []string) {
	s.t.Helper()
	s.cmd = exec.CommandContext(ctx, "bash", "--noprofile", "--norc")
	s.cmd.Dir = workdir
	s.cmd.Env = env
	pr, pw, err := os.Pipe()
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		s.t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	pw.Close()
	s.out = bufio.NewReader(pr)
	if out, ok := s.exec(docShellPrelude); !ok {
		s.t.Fatalf("shell prelude failed:\n%s", out)
	}
}

// exec runs script in the page's shell and reports its output and
// whether the shell is still alive (set -e ends it at the first failure).
func (s *docSession) exec(script string) (string, bool) {
	s.n++
	marker := fmt.Sprintf("@@doc-block-%d-done@@", s.n)
	if _, err := fmt.Fprintf(s.in, "{\n%s\n} </dev/null 2>&1\necho %s\n", script, marker); err != nil {
		return err.Error(), false
	}
	var out strings.Builder
	for {
		line, err := s.out.ReadString('\n')
		if strings.TrimSpace(line) == marker {
			return out.String(), true
		}
		out.WriteString(line)
		if err != nil {
			return out.String(), false
		}
	}
}

// value reads a shell variable of the page's shell.
func (s *docSession) value(name string) string {
	s.t.Helper()
	out, ok := s.exec(`printf '%s\n' "$` + name + `"`)
	if !ok {
		s.t.Fatalf("reading $%s: %s", name, out)
	}
	return strings.TrimSpace(out)
}

func (s *docSession) stop() {
	s.in.Close()
	_ = s.cmd.Wait()
}

// completeSteps completes the doc incident's steps in order, as their
// owners would, for a block that starts later in the playbook; a step
// already done is left alone.
func completeSteps(steps ...string) func(*docSession) {
	return func(s *docSession) {
		s.t.Helper()
		id := s.value("DOC_INCIDENT")
		for _, step := range steps {
			if s.api.stepState(s.stack.token, id, step) == breach.StepDone {
				continue // an earlier page did it: both launch SIEM-4411
			}
			code, body := s.api.do("POST", "/v1/incidents/"+id+"/steps/"+step+"/complete", s.stack.token,
				map[string]any{"note": "done by TestDocsCommandsRun"}, nil)
			if code != 200 {
				s.t.Fatalf("completing %s of %s before the block: %d %v", step, id, code, body)
			}
		}
		s.t.Logf("before the block: completed %s of %s", strings.Join(steps, ", "), id)
	}
}

// scratchDir is a new directory holding copies of repository files:
// name in the directory → path in the repository.
func scratchDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, from := range files {
		b, err := os.ReadFile(filepath.Join("../..", from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// inOrder runs each of fs.
func inOrder(fs ...func(*docSession)) func(*docSession) {
	return func(s *docSession) {
		for _, f := range fs {
			f(s)
		}
	}
}

// importSubjects uploads crm-export.csv, as the scope-impact step asks,
// so the outreach step opens its calls when it becomes ready.
func importSubjects(s *docSession) {
	s.t.Helper()
	id := s.value("DOC_INCIDENT")
	csv, err := os.ReadFile(filepath.Join(s.value("PWD"), "crm-export.csv"))
	if err != nil {
		s.t.Fatal(err)
	}
	code, body := s.api.do("POST", "/v1/incidents/"+id+"/subjects", s.stack.token, string(csv), map[string]string{"Content-Type": "text/csv"})
	if code != 200 && code != 201 {
		s.t.Fatalf("importing crm-export.csv into %s before the block: %d %v", id, code, body)
	}
	s.t.Logf("before the block: imported crm-export.csv into %s", id)
}

// approveNotice has two people approve the notice (the admin, then
// legal: the shipped playbooks need two) and waits for the notices to go
// out.
func approveNotice(s *docSession) {
	s.t.Helper()
	id := s.value("DOC_INCIDENT")
	// The playbook offers US customers a remedy code: legal's pool must
	// cover them before the send goes (docs/customers.md).
	var pool strings.Builder
	pool.WriteString("code,product,enrollment_url,enroll_by\n")
	for i := range 3000 {
		fmt.Fprintf(&pool, "DOC-%05d,credit-monitoring,https://enroll.example-bureau.com/,%s\n", i, time.Now().AddDate(0, 6, 0).Format(time.DateOnly))
	}
	if code, body := s.api.do("POST", "/v1/incidents/"+id+"/remedy-codes", s.value("LEGAL_TOKEN"), pool.String(),
		map[string]string{"Content-Type": "text/csv"}); code != 200 {
		s.t.Fatalf("importing remedy codes into %s before the block: %d %v", id, code, body)
	}
	for _, token := range []string{s.stack.token, s.value("LEGAL_TOKEN")} {
		code, body := s.api.do("POST", "/v1/incidents/"+id+"/steps/approve-notice/decide", token, map[string]any{"decision": "approve"}, nil)
		if code != 200 {
			s.t.Fatalf("approving the notice of %s before the block: %d %v", id, code, body)
		}
	}
	eventually(s.t, 60*time.Second, "the customer notices of "+id+" to be sent", func() bool {
		return s.api.stepState(s.stack.token, id, "customer-notices") == breach.StepDone
	})
	s.t.Logf("before the block: approved the notice of %s; its notices were sent", id)
}

// docShellBlocks extracts every fenced sh/bash/shell block of the pages,
// including those indented inside a list.
func docShellBlocks(t *testing.T) []docBlock {
	t.Helper()
	names, _ := filepath.Glob("../../docs/*.md")
	names = append([]string{"../../README.md"}, names...)
	open := regexp.MustCompile("^(\\s*)```(sh|bash|shell)\\s*$")
	var blocks []docBlock
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		file := strings.TrimPrefix(n, "../../")
		lines := strings.Split(string(raw), "\n")
		for i := 0; i < len(lines); i++ {
			m := open.FindStringSubmatch(lines[i])
			if m == nil {
				continue
			}
			b := docBlock{file: file, line: i + 1}
			var body []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				body = append(body, strings.TrimPrefix(lines[i], m[1]))
			}
			b.text = strings.Join(body, "\n")
			blocks = append(blocks, b)
		}
	}
	return blocks
}

// classifyDocBlocks pairs every block with its rule, reporting blocks
// without one and rules that match none or several.
func classifyDocBlocks(t *testing.T, blocks []docBlock) map[docBlock]docBlockRule {
	t.Helper()
	out := map[docBlock]docBlockRule{}
	for _, r := range docBlockRules {
		var exact, contains []docBlock
		for _, b := range blocks {
			if b.file != r.file {
				continue
			}
			if strings.TrimSpace(b.text) == r.match {
				exact = append(exact, b)
			} else if strings.Contains(b.text, r.match) {
				contains = append(contains, b)
			}
		}
		matched := exact
		if len(matched) == 0 {
			matched = contains
		}
		switch len(matched) {
		case 0:
			t.Errorf("docBlockRules: no shell block of %s contains %q (was the block changed, moved or removed?); update or remove the rule", r.file, r.match)
		case 1:
			if prev, ok := out[matched[0]]; ok {
				t.Errorf("docBlockRules: %s is matched by both %q and %q", matched[0], prev.match, r.match)
			}
			out[matched[0]] = r
		default:
			var where []string
			for _, b := range matched {
				where = append(where, b.String())
			}
			t.Errorf("docBlockRules: %q matches %d shell blocks of %s (%s); make match name one", r.match, len(matched), r.file, strings.Join(where, ", "))
		}
	}
	for _, b := range blocks {
		if _, ok := out[b]; !ok {
			t.Errorf("%s: this shell block is in no rule of docBlockRules (docs_run_test.go); add one that runs it, or skips it with a reason, e.g.\n\t{file: %q, match: %q},\nthe block:\n```sh\n%s\n```", b, b.file, firstCommand(b.text), b.text)
		}
	}
	return out
}

// firstCommand is the block's first line that is not a comment, a
// starting point for a rule's match.
func firstCommand(text string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return strings.TrimSuffix(l, " \\")
		}
	}
	return text
}

// docScript is what runs for block b: the placeholders replaced and the
// times moved to now.
func docScript(b docBlock, now time.Time, values map[string]string) string {
	s := b.text
	for _, p := range append(docPlaceholders[""], docPlaceholders[b.file]...) {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	for k, v := range values {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	shift := now.Truncate(time.Minute).Sub(docClock)
	return regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`).ReplaceAllStringFunc(s, func(v string) string {
		at, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return v
		}
		return at.Add(shift).Format(time.RFC3339)
	})
}

// TestDocsShellBlocksClassified: every shell block of the pages is run by
// TestDocsCommandsRun or skipped with a reason (cheap, also in -short).
func TestDocsShellBlocksClassified(t *testing.T) {
	blocks := docShellBlocks(t)
	if len(blocks) < 20 {
		t.Fatalf("found only %d shell blocks; is the extraction broken?", len(blocks))
	}
	classifyDocBlocks(t, blocks)
}

// TestDocsCommandsRun runs the pages' shell blocks as written, in page
// order, one shell per page, against a dev stack.
func TestDocsCommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the dev stack")
	}
	for _, tool := range []string{"bash", "curl", "jq", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (.ci/run installs it)", tool)
			}
			t.Skipf("%s is missing", tool)
		}
	}
	blocks := docShellBlocks(t)
	rules := classifyDocBlocks(t, blocks)
	if t.Failed() {
		t.FailNow()
	}

	root, _ := filepath.Abs("../..")
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "breachflow"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dataDir := t.TempDir()
	stack := startTestDev(t, dataDir)
	t.Cleanup(func() { _ = stack.Stop() })
	base := "http://" + stack.httpAddr
	legal, _, err := stack.store.CreateToken(context.Background(), "lena-legal", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	// Pages that write files or read their own run in a scratch directory
	// with those files: the customer export docs/api.md uploads, the
	// env.example docs/deploy.md copies.
	workdirs := map[string]string{
		"docs/api.md":    scratchDir(t, map[string]string{"crm-export.csv": "internal/subjects/testdata/generic.csv"}),
		"docs/deploy.md": scratchDir(t, map[string]string{"deploy/env.example": "deploy/env.example"}),
		"docs/legal.md":  t.TempDir(), // the evidence pack is written here
	}

	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BREACHFLOW_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOBIN="+bin, // README's go install lands next to the built binary
		"BREACHFLOW_DATA_DIR="+dataDir,
		"BREACHFLOW_API_URL="+base,
		"BREACHFLOW_TOKEN="+stack.token,
		"BF="+base,
		"TOKEN="+stack.token,
		"LEGAL_TOKEN="+legal,
		"SOURCE_TOKEN="+docSourceToken,
	)

	byFile := map[string][]docBlock{}
	var files []string
	for _, b := range blocks {
		if len(byFile[b.file]) == 0 {
			files = append(files, b.file)
		}
		byFile[b.file] = append(byFile[b.file], b)
	}
	sort.Strings(files)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, file := range files {
		t.Run(strings.ReplaceAll(file, "/", "_"), func(t *testing.T) {
			workdir, ok := workdirs[file]
			if !ok {
				workdir = root
			}
			docDir := t.TempDir()
			s := &docSession{t: t, stack: stack, api: apiClient{t: t, base: base}}
			s.start(ctx, workdir, append(env, "DOC_DIR="+docDir))
			defer s.stop()
			for _, b := range byFile[file] {
				r := rules[b]
				if r.skip != "" {
					t.Logf("%s: skipped: %s", b, r.skip)
					continue
				}
				if r.before != nil {
					r.before(s)
				}
				script := docScript(b, time.Now(), map[string]string{"API URL": base, "admin token": stack.token})
				_ = os.Remove(filepath.Join(docDir, "codes"))
				if r.refused != 0 {
					out, ok := s.exec("set +e\n(\nset -e\n" + script + "\n)\necho \"@@exit $?\"\nset -e")
					raw, _ := os.ReadFile(filepath.Join(docDir, "codes"))
					codes := strings.Fields(string(raw))
					want := strings.Count(script, "curl ")
					if !ok || strings.Contains(out, "@@exit 0") || len(codes) != want || codes[len(codes)-1] != fmt.Sprint(r.refused) {
						t.Fatalf("%s: want every command to succeed and the last curl (of %d) refused with %d; got statuses %v\n--- block as run:\n%s\n--- output:\n%s", b, want, r.refused, codes, script, out)
					}
					t.Logf("%s: ran; its last curl was refused with %d, as the page says", b, r.refused)
					continue
				}
				out, ok := s.exec(script)
				if !ok {
					t.Fatalf("%s: the block failed\n--- block as run:\n%s\n--- output:\n%s", b, script, out)
				}
				t.Logf("%s: ran", b)
			}
		})
	}
}
