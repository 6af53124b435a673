package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/store"
)

func testSlackRoomRoundTrip(t *testing.T, s store.Store) {
	c := ctx(t)
	id := newIncident(t, s)
	if _, err := s.GetSlackRoom(c, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSlackRoom before any: %v, want ErrNotFound", err)
	}
	created := time.Date(2026, 11, 23, 8, 0, 0, 123456000, time.UTC)
	room := store.SlackRoom{IncidentID: id, ChannelID: "C0001", ChannelName: "breach-x", CreatedAt: created}
	if err := s.PutSlackRoom(c, room); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSlackRoom(c, id)
	if err != nil || got.ChannelID != "C0001" || got.InvitedAt != nil || got.PinnedAt != nil || !got.CreatedAt.Equal(created) {
		t.Fatalf("GetSlackRoom = %+v, %v", got, err)
	}
	invited := created.Add(time.Minute)
	room.InvitedAt, room.PinnedAt, room.Topic = &invited, &invited, "high · triage"
	if err := s.PutSlackRoom(c, room); err != nil {
		t.Fatal(err)
	}
	got, err = s.SlackRoomByChannel(c, "C0001")
	if err != nil || got.IncidentID != id || got.InvitedAt == nil || !got.InvitedAt.Equal(invited) || got.PinnedAt == nil || got.Topic != "high · triage" {
		t.Fatalf("SlackRoomByChannel = %+v, %v", got, err)
	}
	if _, err := s.SlackRoomByChannel(c, "C9999"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown channel: %v, want ErrNotFound", err)
	}
}

func testSlackRoomRefusals(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := newIncident(t, s), newIncident(t, s)
	if err := s.PutSlackRoom(c, store.SlackRoom{IncidentID: "BR-NOPE00", ChannelID: "C1", ChannelName: "n"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: %v, want ErrNotFound", err)
	}
	if err := s.PutSlackRoom(c, store.SlackRoom{IncidentID: a, ChannelName: "n"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no channel id: %v, want ErrInvalid", err)
	}
	if err := s.PutSlackRoom(c, store.SlackRoom{IncidentID: a, ChannelID: "C1", ChannelName: "n"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSlackRoom(c, store.SlackRoom{IncidentID: b, ChannelID: "C1", ChannelName: "n"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("channel of another incident: %v, want ErrConflict", err)
	}
	if err := s.PutSlackCard(c, store.SlackCard{IncidentID: "BR-NOPE00", Key: "header", ChannelID: "C1"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("card of unknown incident: %v, want ErrNotFound", err)
	}
	if err := s.PutSlackCard(c, store.SlackCard{IncidentID: a, ChannelID: "C1"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("card without key: %v, want ErrInvalid", err)
	}
}

func testSlackCards(t *testing.T, s store.Store) {
	c := ctx(t)
	id := newIncident(t, s)
	if _, err := s.GetSlackCard(c, id, "header"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSlackCard before any: %v, want ErrNotFound", err)
	}
	asOf := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	pending := store.SlackCard{IncidentID: id, Key: "step:triage", ChannelID: "C1", AsOf: asOf}
	if err := s.PutSlackCard(c, pending); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSlackCard(c, id, "step:triage")
	if err != nil || got.TS != "" || got.ChannelID != "C1" || !got.AsOf.Equal(asOf) {
		t.Fatalf("pending card = %+v, %v", got, err)
	}
	posted := pending
	posted.TS, posted.Digest, posted.AsOf = "1700000000.000100", "d1", asOf.Add(time.Minute)
	if err := s.PutSlackCard(c, posted); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetSlackCard(c, id, "step:triage")
	if err != nil || got != posted {
		t.Fatalf("posted card = %+v, %v; want %+v", got, err, posted)
	}
	if _, err := s.GetSlackCard(c, id, "header"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other key: %v, want ErrNotFound", err)
	}
}

func testSlackRequestReplay(t *testing.T, s store.Store) {
	c := ctx(t)
	at := time.Now().UTC()
	if seen, err := s.SlackRequestSeen(c, []byte("sig-1"), at); err != nil || seen {
		t.Fatalf("first: seen=%v err=%v", seen, err)
	}
	if seen, err := s.SlackRequestSeen(c, []byte("sig-1"), at.Add(time.Second)); err != nil || !seen {
		t.Fatalf("replay: seen=%v err=%v, want seen", seen, err)
	}
	// Concurrent replays: exactly one is new.
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen, err := s.SlackRequestSeen(c, []byte("sig-2"), at)
			if err != nil {
				t.Error(err)
				return
			}
			if !seen {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d concurrent first sightings, want 1", fresh)
	}
	// Past the window the entry is forgotten (Slack refuses such timestamps anyway).
	if seen, err := s.SlackRequestSeen(c, []byte("sig-3"), at.Add(time.Second)); err != nil || seen {
		t.Fatalf("sig-3: seen=%v err=%v", seen, err)
	}
	if seen, err := s.SlackRequestSeen(c, []byte("sig-1"), at.Add(store.SlackRequestWindow+time.Minute)); err != nil || seen {
		t.Fatalf("after the window: seen=%v err=%v, want forgotten", seen, err)
	}
	if _, err := s.SlackRequestSeen(c, nil, at); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty hash: %v, want ErrInvalid", err)
	}
}
