package actionrecorder

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
)

// post sends body to the recorder signed with secret, as CallWebhook does.
func post(t *testing.T, r *Recorder, action, body string, secret []byte) int {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest("POST", r.URL(action), strings.NewReader(body))
	req.Header.Set(activities.HeaderTimestamp, ts)
	req.Header.Set(activities.HeaderSignature, activities.Sign(secret, ts, []byte(body)))
	req.Header.Set(activities.HeaderDelivery, "d1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRecorderVerifiesAndRecords(t *testing.T) {
	secret := []byte("0123456789abcdef0123")
	r, err := Start("127.0.0.1:0", secret, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	body := `{"delivery_id":"d1","incident_id":"BR-7K3F9Q","step":"rotate-credentials","action":"rotate-credentials","requested_by":"system","params":{}}`
	if code := post(t, r, "rotate-credentials", body, []byte("not the secret at all")); code != http.StatusUnauthorized {
		t.Errorf("wrong signature: %d, want 401", code)
	}
	if code := post(t, r, "disable-account", body, secret); code != http.StatusBadRequest {
		t.Errorf("body for another action: %d, want 400", code)
	}
	if n := len(r.Calls()); n != 0 {
		t.Fatalf("%d calls recorded from refused requests", n)
	}
	for range 2 {
		if code := post(t, r, "rotate-credentials", body, secret); code != http.StatusOK {
			t.Fatalf("signed call: %d, want 200", code)
		}
	}
	calls := r.Calls()
	if len(calls) != 1 || calls[0].IncidentID != "BR-7K3F9Q" || calls[0].Step != "rotate-credentials" || calls[0].Deliveries != 2 {
		t.Errorf("calls = %+v, want one rotate-credentials delivered twice", calls)
	}
}
