package api

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// storeUnavailable reports whether err means the store's database could
// not be reached: a refused or broken connection, or PostgreSQL saying it
// is shutting down or starting (SQLSTATE classes 08 and 57P). Such a
// request is answered 503 with Retry-After, like a Temporal outage: the
// caller can repeat it once the database is back, and nothing was written.
func storeUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	// pgx's *pgconn.PgError, without importing a driver here.
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		state := coded.SQLState()
		return strings.HasPrefix(state, "08") || strings.HasPrefix(state, "57P")
	}
	return false
}
