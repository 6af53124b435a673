package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// launchUSCustomers launches a customer-data-breach incident in US-CA
// titled title as token, and imports n customers with an email each (of
// tier, when set). It answers the incident's id and how long the import
// took.
func launchUSCustomers(t *testing.T, c apiClient, token, title, tier string, n int) (string, time.Duration) {
	t.Helper()
	code, inc := c.do("POST", "/v1/incidents", token, map[string]any{"playbook": "customer-data-breach", "title": title,
		"severity": "high", "aware_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339),
		"data_categories": []string{"contact"}, "jurisdictions": []string{"US-CA"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	header, tierCol := "external_id,name,email,locale,country,subdivision", ""
	if tier != "" {
		header, tierCol = header+",tier", ","+tier
	}
	var csv strings.Builder
	csv.WriteString(header + "\n")
	for i := range n {
		fmt.Fprintf(&csv, "C%d,Customer %d,c%d@example.com,en,US,US-CA%s\n", i, i, i, tierCol)
	}
	started := time.Now()
	if code, body := c.do("POST", "/v1/incidents/"+id+"/subjects", token, csv.String(), map[string]string{"Content-Type": "text/csv"}); code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}
	return id, time.Since(started)
}

// sentAttempts reads the incident's sent notices from the API: the
// claim count of each by Message-ID, and how many there are.
func sentAttempts(t *testing.T, c apiClient, token, id string) (map[string]float64, int) {
	t.Helper()
	attempts := map[string]float64{}
	sent := 0
	for after := 0.0; ; {
		_, page := c.do("GET", fmt.Sprintf("/v1/incidents/%s/notices?status=sent&limit=10000&after=%d", id, int64(after)), token, nil, nil)
		for _, x := range page["notices"].([]any) {
			nt := x.(map[string]any)
			attempts[nt["message_id"].(string)] = nt["attempts"].(float64)
			sent++
		}
		next, ok := page["next_after"].(float64)
		if !ok {
			break
		}
		after = next
	}
	return attempts, sent
}

// checkSentOnce checks a send of n notices that a crash interrupted:
// seen (Message-ID → deliveries at the SMTP peer) holds every notice, the
// store has all n sent (attempts: Message-ID → claims, sent rows), a
// notice delivered twice is one that was claimed twice, and the repeats
// stay within bound, the notices of the batches in flight. It answers the
// repeats.
func checkSentOnce(t *testing.T, seen map[string]int, attempts map[string]float64, sent, n, bound int) int {
	t.Helper()
	if len(seen) != n {
		t.Fatalf("the SMTP peer saw %d distinct Message-IDs, want %d", len(seen), n)
	}
	if sent != n {
		t.Fatalf("the store has %d sent notices, want %d", sent, n)
	}
	repeats := 0
	for mid, k := range seen {
		if k > 1 {
			repeats += k - 1
			if attempts[mid] < 2 {
				t.Errorf("%s was delivered %d times but claimed only once", mid, k)
			}
		}
	}
	if repeats > bound {
		t.Errorf("%d repeats; the batches in flight hold at most %d notices", repeats, bound)
	}
	return repeats
}
