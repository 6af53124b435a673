package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/dburl"
)

// remedyPlaybook sends notices as soon as it is told to, and offers US
// customers a credit-monitoring code (the notice-page browser test's).
const remedyPlaybook = `id: remedy-check
version: 1
title: Remedy check
remedy:
  product: credit-monitoring
  jurisdictions: [US]
steps:
  - id: send
    title: Send customer notices
    kind: customer_notices
    owner: responder
`

// remedyAssignPage and the pause between pages make the killed assigner
// of TestCustomersEndToEnd stop half-way: its pages commit one by one.
const remedyAssignPage = 100

// assignSubprocess is `BREACHFLOW_TEST_SUBPROCESS=assign`: it gives codes
// page by page with the store's own AssignRemedyCodes, printing each
// committed page, until the test kills it (SIGKILL, no goodbye).
func assignSubprocess() int {
	ctx := context.Background()
	st, err := dburl.Open(ctx, os.Getenv("BREACHFLOW_DATABASE_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "assign:", err)
		return 1
	}
	id := os.Getenv("BREACHFLOW_TEST_INCIDENT")
	sc := store.RemedyScope{Product: "credit-monitoring", Jurisdictions: []string{"US", "CN"}} // customersPlaybook's
	for after, page := int64(0), 1; ; page++ {
		ids, err := st.ListSubjectIDs(ctx, id, after, remedyAssignPage)
		if err != nil || len(ids) == 0 {
			fmt.Fprintln(os.Stderr, "assign: done", err)
			return 0
		}
		n, _, err := st.AssignRemedyCodes(ctx, id, sc, ids)
		if err != nil {
			fmt.Fprintln(os.Stderr, "assign:", err)
			return 1
		}
		fmt.Printf("page %d: %d codes\n", page, n)
		after = ids[len(ids)-1]
		time.Sleep(50 * time.Millisecond)
	}
}

type pageResult struct {
	status int
	body   string
}

func getPage(t *testing.T, url string) pageResult {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pageResult{resp.StatusCode, string(b)}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// subjectOf reads the subject id out of a customer notice's Message-ID.
func subjectOf(messageID, incidentID string) (int64, bool) {
	rest, ok := strings.CutPrefix(messageID, "<"+incidentID+".customer.")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(rest, "@breachflow>"), 10, 64)
	return n, err == nil
}
