package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/workflows"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
)

// openWorkflowsQuery lists the open workflows a breachflow worker runs.
// A constant: no input of anyone's reaches a visibility query.
const openWorkflowsQuery = "ExecutionStatus = 'Running' AND (WorkflowType = 'Incident' OR WorkflowType = 'NotifyCustomers')"

// replayCommand is the check to run before rolling workers to a new
// build: it replays workflow histories (saved JSON files, workflows
// fetched by id, or every open one in the namespace) against this
// binary's workflow code, the way a worker of this build would on taking
// them over, and fails naming each that does not replay.
func replayCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay [HISTORY.json ...]",
		Short: "Replay workflow histories against this build's workflow code (run it before rolling workers to a new build)",
		Long: `Replays workflow histories against this binary's workflow code, with the codec
(BREACHFLOW_ENCRYPTION_KEYS) its workers use. Histories come from JSON files
(as "temporal workflow show --output json" writes them), from the cluster by
--workflow (an incident id or a workflow id; the latest run), or from the
cluster with --open: every open Incident and NotifyCustomers workflow in
BREACHFLOW_TEMPORAL_NAMESPACE. It exits non-zero naming each workflow that does
not replay: workers of this build would fail its workflow tasks.`,
	}
	load := config.Flags(cmd.Flags(), os.Getenv)
	open := cmd.Flags().Bool("open", false, "replay every open Incident and NotifyCustomers workflow in the namespace")
	ids := cmd.Flags().StringArray("workflow", nil, "an incident id (BR-…) or a workflow id to fetch and replay; repeatable")
	save := cmd.Flags().String("save", "", "also write each fetched history as JSON into this directory (for a bug report)")
	cmd.RunE = func(cmd *cobra.Command, files []string) error {
		if len(files) == 0 && len(*ids) == 0 && !*open {
			return errors.New("nothing to replay: name history files, --workflow ids or --open")
		}
		cfg, err := load()
		if err != nil {
			return err
		}
		// Every file is read before anything replays: a wrong path fails
		// at once.
		histories := make([]*historypb.History, len(files))
		for i, f := range files {
			if histories[i], err = readHistory(f); err != nil {
				return err
			}
		}
		keys, err := codec.ParseKeys(cfg.EncryptionKeys)
		if err != nil {
			return fmt.Errorf("BREACHFLOW_ENCRYPTION_KEYS: %w", err)
		}
		r, err := workflows.NewReplayer(keys)
		if err != nil {
			return err
		}
		rp := &replayRun{r: r, out: cmd.OutOrStdout(), save: *save,
			log: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
		for i, f := range files {
			rp.replay(f, histories[i], nil)
		}
		if len(*ids) > 0 || *open {
			if err := rp.fetchAndReplay(cmd.Context(), cfg, keys, *ids, *open); err != nil {
				return err
			}
		}
		if len(rp.failed) > 0 {
			return fmt.Errorf("%d of %d histories do not replay against this build: %s", len(rp.failed), rp.total, strings.Join(rp.failed, ", "))
		}
		fmt.Fprintf(rp.out, "all %d histories replay against this build\n", rp.total)
		return nil
	}
	return cmd
}

// replayRun replays histories one after another and keeps the names of
// those that failed.
type replayRun struct {
	r      worker.WorkflowReplayer
	out    io.Writer
	log    sdklog.Logger
	save   string
	total  int
	failed []string
}

// replay replays one history; exec names its workflow when it came from
// the cluster.
func (rp *replayRun) replay(name string, h *historypb.History, exec *workflowExecution) {
	rp.total++
	var err error
	if exec != nil {
		err = rp.r.ReplayWorkflowHistoryWithOptions(rp.log, h, worker.ReplayWorkflowHistoryOptions{
			OriginalExecution: workflow.Execution{ID: exec.id, RunID: exec.runID}})
	} else {
		err = rp.r.ReplayWorkflowHistory(rp.log, h)
	}
	note := ""
	if n := countEvents(h, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED); n > 0 {
		// Not this build's verdict: the run's own workers failed these
		// tasks (a worker crash, or a build that did not replay).
		note = fmt.Sprintf("; %d failed workflow tasks in its history", n)
	}
	if err != nil {
		rp.failed = append(rp.failed, name)
		fmt.Fprintf(rp.out, "FAIL %s (%d events%s): %s\n", name, len(h.GetEvents()), note, oneLine(err))
		return
	}
	fmt.Fprintf(rp.out, "ok   %s (%d events%s)\n", name, len(h.GetEvents()), note)
}

type workflowExecution struct{ id, runID string }

// fetchAndReplay fetches the named workflows' histories, and every open
// one's with open, from the cluster and replays them.
func (rp *replayRun) fetchAndReplay(ctx context.Context, cfg *config.Config, keys *codec.Keyring, ids []string, open bool) error {
	if cfg.TemporalAddress == "" {
		return errors.New("BREACHFLOW_TEMPORAL_ADDRESS: required to fetch histories (--workflow, --open)")
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := dialCluster(dctx, cfg, keys, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		return fmt.Errorf("BREACHFLOW_TEMPORAL_ADDRESS: %s", oneLine(err))
	}
	defer c.Close()
	var execs []workflowExecution
	for _, id := range ids {
		if !strings.Contains(id, "/") {
			id = workflows.IncidentWorkflowID(id)
		}
		execs = append(execs, workflowExecution{id: id})
	}
	if open {
		var token []byte
		for {
			page, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: cfg.TemporalNamespace, Query: openWorkflowsQuery, NextPageToken: token})
			if err != nil {
				return fmt.Errorf("list open workflows: %s", oneLine(err))
			}
			for _, e := range page.GetExecutions() {
				execs = append(execs, workflowExecution{id: e.GetExecution().GetWorkflowId(), runID: e.GetExecution().GetRunId()})
			}
			if token = page.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
		if len(execs) == 0 {
			fmt.Fprintf(rp.out, "no open workflows in namespace %s\n", cfg.TemporalNamespace)
		}
	}
	for _, e := range execs {
		h, err := fetchHistory(ctx, c, e.id, e.runID)
		if err != nil {
			return err
		}
		if rp.save != "" {
			if err := saveHistoryJSON(rp.save, e.id, h); err != nil {
				return err
			}
		}
		rp.replay(e.id, h, &e)
	}
	return nil
}

func fetchHistory(ctx context.Context, c client.Client, id, runID string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %s", id, oneLine(err))
		}
		h.Events = append(h.Events, ev)
	}
	return &h, nil
}

func readHistory(path string) (*historypb.History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: not a workflow history: %w", path, err)
	}
	if len(h.GetEvents()) == 0 {
		return nil, fmt.Errorf("%s: the history has no events", path)
	}
	return h, nil
}

// saveHistoryJSON writes h as dir/<workflow id with / as _>.json.
func saveHistoryJSON(dir, id string, h *historypb.History) error {
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, strings.ReplaceAll(id, "/", "_")+".json"), raw, 0o600)
}

func countEvents(h *historypb.History, t enumspb.EventType) int {
	n := 0
	for _, ev := range h.GetEvents() {
		if ev.GetEventType() == t {
			n++
		}
	}
	return n
}
