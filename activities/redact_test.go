package activities

import "testing"

func TestRedactAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"smtp 550: 5.1.1 <ann.lee+x@example.com>: Recipient address rejected": "smtp 550: 5.1.1 <[address]>: Recipient address rejected",
		"452 too many recipients for lilei@example.cn, try later":             "452 too many recipients for [address], try later",
		"dial tcp 127.0.0.1:25: connection refused":                           "dial tcp 127.0.0.1:25: connection refused",
	} {
		if got := RedactAddresses(in); got != want {
			t.Errorf("RedactAddresses(%q) = %q, want %q", in, got, want)
		}
	}
}
