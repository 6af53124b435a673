package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/evidence"
	"github.com/spf13/cobra"
)

// evidenceCommand is `breachflow evidence`: export an incident's signed
// evidence pack and verify one offline.
func evidenceCommand() *cobra.Command { return newEvidenceCommand(os.Getenv, time.Now) }

// evidenceKeyAnswer is GET /v1/evidence-key.
type evidenceKeyAnswer struct {
	Algorithm   string `json:"algorithm"`
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"`
}

func newEvidenceCommand(getenv func(string) string, now func() time.Time) *cobra.Command {
	o := &clientOptions{getenv: getenv, now: now}
	cmd := &cobra.Command{
		Use:   "evidence",
		Short: "Export an incident's signed evidence pack, and verify one offline",
		Long: "An evidence pack is one zip of an incident's record for a regulator or a court: summary,\n" +
			"the playbook as pinned, timeline, audit events with the chain's verification, obligations,\n" +
			"report drafts, delivery counts (no customer data) and a manifest of SHA-256 digests signed\n" +
			"with Ed25519. docs/legal.md describes the format.",
	}
	o.flags(cmd)

	var out string
	export := &cobra.Command{
		Use:   "export ID -o FILE",
		Short: "Download the incident's evidence pack (interim while the incident is open) and check it",
		Args:  cobra.ExactArgs(1),
	}
	export.Flags().StringVarP(&out, "output", "o", "", "where to write the zip (required)")
	_ = export.MarkFlagRequired("output")
	export.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := o.connect()
		if err != nil {
			return err
		}
		keyRaw, err := c.do(cmd.Context(), apiRequest{method: http.MethodGet, path: "/v1/evidence-key"})
		if err != nil {
			return err
		}
		var key evidenceKeyAnswer
		if err := json.Unmarshal(keyRaw, &key); err != nil {
			return fmt.Errorf("GET /v1/evidence-key: %w", err)
		}
		pub, err := evidence.ParsePublicKey(key.PublicKey)
		if err != nil {
			return fmt.Errorf("GET /v1/evidence-key: %w", err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(out), ".evidence-*.zip")
		if err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		defer os.Remove(tmp.Name())
		_, err = c.do(cmd.Context(), apiRequest{method: http.MethodGet, path: incidentPath(args[0], "evidence"), download: tmp, accept: "application/zip"})
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		// The file is checked before it takes its name: a pack that does not
		// verify against the server's own key is never left behind as good.
		rep, size, err := verifyFile(tmp.Name(), pub)
		if err != nil {
			return err
		}
		if !rep.OK() {
			return fmt.Errorf("the downloaded pack does not verify: %s", strings.Join(rep.Problems(), "; "))
		}
		if err := os.Rename(tmp.Name(), out); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		w := cmd.OutOrStdout()
		kind := "final"
		if rep.Manifest.Interim {
			kind = "INTERIM (the incident is still open)"
		}
		fmt.Fprintf(w, "Wrote %s: evidence pack of %s, %s, %d files, %d bytes.\n", out, cell(rep.Manifest.Incident), kind, len(rep.Manifest.Files), size)
		fmt.Fprintf(w, "Signed with Ed25519 key %s\nPublic key: %s\n", key.Fingerprint, key.PublicKey)
		fmt.Fprintf(w, "Verify offline: breachflow evidence verify %s --public-key %s\n", out, key.PublicKey)
		return nil
	}

	var pubArg string
	verify := &cobra.Command{
		Use:   "verify FILE [--public-key KEY]",
		Short: "Check an evidence pack offline; exits non-zero naming each altered, added or removed file",
		Long: "Check an evidence pack offline: every file against the manifest's SHA-256, and the manifest's\n" +
			"Ed25519 signature against --public-key (base64, or @FILE holding it; the organisation publishes\n" +
			"it at GET /v1/evidence-key). Without --public-key the key inside the pack is used, which proves\n" +
			"the pack is intact but not who made it: compare the printed fingerprint with the published one.",
		Args: cobra.ExactArgs(1),
	}
	verify.Flags().StringVar(&pubArg, "public-key", "", "the signer's Ed25519 public key in base64, or @FILE")
	verify.RunE = func(cmd *cobra.Command, args []string) error {
		var pub ed25519.PublicKey
		if pubArg != "" {
			v, err := readKeyArg(pubArg)
			if err != nil {
				return err
			}
			if pub, err = evidence.ParsePublicKey(v); err != nil {
				return fmt.Errorf("--public-key: %w", err)
			}
		}
		rep, _, err := verifyFile(args[0], pub)
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		m := rep.Manifest
		if !rep.OK() {
			for _, p := range rep.Problems() {
				fmt.Fprintln(w, "FAIL\t"+printable(p, 300))
			}
			return fmt.Errorf("evidence pack %s does not verify: %s", args[0], printable(strings.Join(rep.Problems(), "; "), 1000))
		}
		kind := "final"
		if m.Interim {
			kind = "INTERIM: the incident was still open"
		}
		fmt.Fprintf(w, "OK\t%s: evidence pack of %s generated %s (%s)\n", args[0], cell(m.Incident), stamp(m.GeneratedAt), kind)
		fmt.Fprintf(w, "Files\t%d, each matching the manifest's SHA-256\n", len(m.Files))
		fmt.Fprintf(w, "Signature\tEd25519, key %s\n", cell(m.Fingerprint))
		if rep.KeyFromPack {
			fmt.Fprintln(w, "Note\tchecked with the key inside the pack: compare its fingerprint with the one the organisation publishes, or pass --public-key")
		}
		return nil
	}

	key := &cobra.Command{
		Use:   "key",
		Short: "Print the public key that verifies this server's evidence packs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var k evidenceKeyAnswer
			return o.call(cmd, apiRequest{method: http.MethodGet, path: "/v1/evidence-key"}, &k, func(w io.Writer) error {
				fmt.Fprintf(w, "Algorithm\t%s\nPublic key\t%s\nFingerprint\t%s\n", cell(k.Algorithm), printable(k.PublicKey, 100), cell(k.Fingerprint))
				return nil
			})
		},
	}
	cmd.AddCommand(export, verify, key)
	return cmd
}

// verifyFile verifies the pack at path; pub nil uses the pack's own key.
func verifyFile(path string, pub ed25519.PublicKey) (*evidence.Report, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	rep, err := evidence.Verify(f, st.Size(), pub)
	if errors.Is(err, evidence.ErrNotAPack) {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return rep, st.Size(), err
}
