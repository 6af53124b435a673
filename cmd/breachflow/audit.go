package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/api"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"github.com/spf13/cobra"
)

func auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Verify incidents' audit chains", Args: cobra.NoArgs}
	cmd.AddCommand(auditVerifyCommand())
	return cmd
}

// auditVerifyCommand checks a chain where it is kept — the store, read
// with the audit keys, against the checkpoint the incident's workflow
// holds — or in an export of GET /v1/incidents/{id}/audit (--file).
func auditVerifyCommand() *cobra.Command {
	var file string
	var needCheckpoint, noLegacy bool
	cmd := &cobra.Command{
		Use:   "verify INCIDENT | --file EXPORT.json",
		Short: "Verify an incident's audit chain: hashes, links, MACs and the workflow's checkpoint",
		Long: `Verify an incident's audit chain and exit non-zero naming the first event that does not verify.

With INCIDENT the events are read from BREACHFLOW_DATABASE_URL (dev: the data dir's database), each
event's MAC is checked with BREACHFLOW_AUDIT_KEYS (dev: the data dir's key), and the chain is
compared with the checkpoint the incident's workflow holds, asked from BREACHFLOW_TEMPORAL_ADDRESS
(dev: the embedded server) when it answers. With --file the events, and the checkpoint the export
carries, come from a saved GET /v1/incidents/{id}/audit body; MACs are checked when
BREACHFLOW_AUDIT_KEYS is set. See docs/audit.md for what a verified chain proves.`,
		Args: cobra.MaximumNArgs(1),
	}
	load := config.Flags(cmd.Flags(), os.Getenv)
	cmd.Flags().StringVar(&file, "file", "", "verify an exported audit trail (the JSON body of GET /v1/incidents/{id}/audit) instead of the store")
	cmd.Flags().BoolVar(&needCheckpoint, "require-checkpoint", false, "fail when the workflow's checkpoint cannot be read")
	cmd.Flags().BoolVar(&noLegacy, "no-legacy", false, "fail when any event lacks a verified MAC (legacy events, or MACs not checked for want of keys)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if (file == "") == (len(args) == 0) {
			return errors.New("audit verify: give an incident id or --file, not both")
		}
		cfg, err := load()
		if err != nil {
			return err
		}
		var v chainVerification
		if file != "" {
			v, err = verifyExport(file, cfg)
		} else {
			v, err = verifyStored(cmd.Context(), cfg, args[0])
		}
		if err != nil {
			return err
		}
		v.print(cmd.OutOrStdout())
		if !v.report.OK {
			return fmt.Errorf("audit %s: chain broken at event %d: %s", v.incident, v.report.BrokenAt, v.report.Reason)
		}
		if noLegacy && (v.report.Legacy > 0 || v.report.Unchecked > 0) {
			return fmt.Errorf("audit %s: %d legacy and %d unchecked events; with --no-legacy every event needs a verified MAC", v.incident, v.report.Legacy, v.report.Unchecked)
		}
		if needCheckpoint && v.report.Checkpoint == 0 {
			return fmt.Errorf("audit %s: no workflow checkpoint to compare with (%s)", v.incident, v.noCheckpoint)
		}
		return nil
	}
	return cmd
}

// chainVerification is what audit verify found, for printing.
type chainVerification struct {
	incident     string
	report       store.ChainReport
	keys         bool   // MACs were checked with keys
	noCheckpoint string // why no checkpoint was compared
}

func (v chainVerification) print(w io.Writer) {
	r := v.report
	if !r.OK {
		fmt.Fprintf(w, "%s: chain BROKEN at event %d: %s\n", v.incident, r.BrokenAt, r.Reason)
		return
	}
	fmt.Fprintf(w, "%s: chain verified: %d events\n", v.incident, r.Events)
	if v.keys {
		fmt.Fprintf(w, "  authenticated  %d (MAC verified with the audit keys)\n", r.Authenticated)
	} else {
		fmt.Fprintf(w, "  unchecked      %d (MACs not checked: set BREACHFLOW_AUDIT_KEYS)\n", r.Unchecked)
	}
	if r.Legacy > 0 {
		fmt.Fprintf(w, "  legacy         %d (written before audit keys: hash-chained, not authenticated)\n", r.Legacy)
	}
	if r.Checkpoint > 0 {
		fmt.Fprintf(w, "  checkpoint     event %d, as the workflow recorded it\n", r.Checkpoint)
	} else {
		fmt.Fprintf(w, "  checkpoint     not compared (%s): events removed from the end would not show\n", v.noCheckpoint)
	}
}

func verifyExport(path string, cfg *config.Config) (chainVerification, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return chainVerification{}, fmt.Errorf("audit verify: %w", err)
	}
	var trail api.AuditTrail
	if err := json.Unmarshal(raw, &trail); err != nil {
		return chainVerification{}, fmt.Errorf("audit verify: %s is not an audit export: %w", path, err)
	}
	if trail.IncidentID == "" {
		return chainVerification{}, fmt.Errorf("audit verify: %s has no incident_id (export it from GET /v1/incidents/{id}/audit)", path)
	}
	keys := cfg.AuditKeyring()
	v := chainVerification{incident: trail.IncidentID, keys: keys != nil, noCheckpoint: "the export has none"}
	v.report = store.VerifyAuditChain(trail.StoreEvents(), keys, trail.Checkpoint)
	return v, nil
}

func verifyStored(ctx context.Context, cfg *config.Config, id string) (chainVerification, error) {
	if cfg.AuditKeys == "" {
		spec, err := os.ReadFile(filepath.Join(cfg.DataDir, devAuditKeysFile))
		if err != nil {
			return chainVerification{}, errors.New("BREACHFLOW_AUDIT_KEYS: required to verify a stored chain (dev keeps it in the data dir, which has none)")
		}
		cfg.AuditKeys = strings.TrimSpace(string(spec))
	}
	keys, err := store.ParseAuditKeys(cfg.AuditKeys)
	if err != nil {
		return chainVerification{}, fmt.Errorf("BREACHFLOW_AUDIT_KEYS: %w", err)
	}
	st, err := openStore(ctx, cfg.DevDatabaseURL())
	if err != nil {
		return chainVerification{}, err
	}
	defer st.Close()
	st.SetAuditKeys(keys)
	if _, err := st.GetIncident(ctx, id); err != nil {
		return chainVerification{}, fmt.Errorf("audit verify %s: %w", id, err)
	}
	head, why := checkpointOf(ctx, cfg, id)
	_, report, err := st.VerifiedAudit(ctx, id, head)
	if err != nil {
		return chainVerification{}, err
	}
	return chainVerification{incident: id, report: report, keys: true, noCheckpoint: why}, nil
}

// checkpointOf asks the incident's workflow for its chain head; when it
// cannot, it says why.
func checkpointOf(ctx context.Context, cfg *config.Config, id string) (*store.ChainHead, string) {
	addr := cfg.TemporalAddress
	if addr == "" {
		addr = "127.0.0.1:" + strconv.Itoa(cfg.DevTemporalPort)
	}
	spec := cfg.EncryptionKeys
	if spec == "" {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, devEncryptionKeysFile))
		if err != nil {
			return nil, "no BREACHFLOW_ENCRYPTION_KEYS to read the workflow with"
		}
		spec = strings.TrimSpace(string(b))
	}
	keys, err := codec.ParseKeys(spec)
	if err != nil {
		return nil, "BREACHFLOW_ENCRYPTION_KEYS: " + err.Error()
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	at := *cfg
	at.TemporalAddress = addr
	c, err := dialCluster(dctx, &at, keys, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return nil, "Temporal at " + addr + " did not answer"
	}
	defer c.Close()
	v, err := c.QueryWorkflow(dctx, workflows.IncidentWorkflowID(id), "", workflows.QueryStatus)
	if err != nil {
		return nil, "the incident's workflow did not answer: " + err.Error()
	}
	var st breach.Status
	if err := v.Get(&st); err != nil {
		return nil, "the workflow's status could not be read: " + err.Error()
	}
	if st.AuditHead == nil {
		return nil, "the workflow has no checkpoint (it predates checkpoints, or has written nothing since)"
	}
	return st.AuditHead, ""
}
