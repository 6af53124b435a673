package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/spf13/cobra"
)

// The benchmark's SMTP sink runs in a process of its own: in production
// the relay is another machine, so its CPU is no part of what a notice
// costs breachflow, yet in this process getrusage would count it (it was
// a fifth of the send's CPU). bench notify starts `breachflow bench sink`,
// reads its address, asks it for its message count over stdin and stdout,
// and reads its CPU time from /proc to print it on a line of its own.

// benchSinkCommand is the child: it prints its address, then answers each
// line on stdin with the number of messages received so far, and stops
// when stdin closes.
func benchSinkCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "sink",
		Short:  "An SMTP sink for bench notify, in a process of its own",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sink, err := mailcatcher.Start("127.0.0.1:0", 1)
			if err != nil {
				return err
			}
			defer sink.Close(context.Background())
			out := cmd.OutOrStdout()
			fmt.Fprintln(out, sink.Addr())
			in := bufio.NewScanner(cmd.InOrStdin())
			for in.Scan() {
				fmt.Fprintln(out, sink.Total())
			}
			return in.Err()
		},
	}
}

// sinkProcess is the parent's handle on the child.
type sinkProcess struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	addr string
}

// startSinkProcess starts this binary as `bench sink`; the test binary
// does the same in TestMain.
func startSinkProcess() (*sinkProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "bench", "sink")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the SMTP sink: %w", err)
	}
	s := &sinkProcess{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if !s.out.Scan() {
		s.Close()
		return nil, errors.New("the SMTP sink did not say its address")
	}
	s.addr = strings.TrimSpace(s.out.Text())
	return s, nil
}

func (s *sinkProcess) Addr() string { return s.addr }

// Total asks the sink how many messages it has received.
func (s *sinkProcess) Total() (int, error) {
	if _, err := io.WriteString(s.in, "total\n"); err != nil {
		return 0, fmt.Errorf("SMTP sink: %w", err)
	}
	if !s.out.Scan() {
		return 0, errors.New("SMTP sink: no answer")
	}
	return strconv.Atoi(strings.TrimSpace(s.out.Text()))
}

// CPU is the sink's user and system time so far.
func (s *sinkProcess) CPU() time.Duration {
	d, _ := pidCPU(s.cmd.Process.Pid)
	return d
}

// Close stops the sink: it ends when its stdin closes.
func (s *sinkProcess) Close() {
	_ = s.in.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}
