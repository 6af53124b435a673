// Package web holds the dashboard's HTML templates and static assets,
// embedded so the binary serves them with no build step and no CDN.
package web

import "embed"

// Templates holds templates/*.html: layout.html and one file per page.
//
//go:embed templates/*.html
var Templates embed.FS

// Static holds static/*: the stylesheet and the small script for
// countdowns and partial refreshes.
//
//go:embed static/*
var Static embed.FS
