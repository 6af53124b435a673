package api

import "encoding/base64"

func encodePageToken(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodePageToken(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
