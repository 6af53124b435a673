package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/actorsig"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/workflows"
	"github.com/spf13/pflag"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestTemporalTrustBoundary runs one dev stack built with the production
// codec (it refuses unencrypted payloads, as server and worker do) and
// checks the two halves of the engine's trust boundary:
//
//   - an Update sent in plain JSON straight to the frontend, with an
//     actor validly signed, is refused before acceptance and leaves
//     nothing in history, while the API's encrypted path works;
//   - Dial reaches the frontend through TLS, mTLS and an API key, each
//     configured from the BREACHFLOW_TEMPORAL_* variables, and is refused
//     with the wrong CA, without the client certificate, or without the
//     key.
func TestTemporalTrustBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out strings.Builder
	stack, err := startDev(ctx, devConfig(t, t.TempDir()), devOptions{Out: &out, TemporalLogLevel: "fatal", StrictCodec: true})
	if err != nil {
		t.Fatalf("start dev: %v", err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	api := apiClient{t: t, base: "http://" + stack.httpAddr}
	code, created := api.do("POST", "/v1/incidents", stack.token,
		map[string]any{"playbook": "customer-data-breach", "title": "Trust boundary test"}, nil)
	if code != 201 {
		t.Fatalf("launch through the API: %d %v", code, created)
	}
	id := created["id"].(string)
	wid := workflows.IncidentWorkflowID(id)

	t.Run("plaintext Update refused", func(t *testing.T) {
		// A raw client, as anyone who reaches the frontend has: Temporal's
		// default converter, so the payload is plain JSON.
		raw, err := client.DialContext(ctx, client.Options{HostPort: stack.temporal.FrontendHostPort(), Namespace: stack.cfg.TemporalNamespace})
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		// The actor is even signed with the right key: only the codec
		// stands between this Update and the workflow.
		const updateID = "plaintext-admin"
		admin := breach.Actor{Name: "x", Role: breach.RoleAdmin}
		admin.Sig, err = actorsig.Sign(stack.cfg.ActorSigningKey(), admin,
			actorsig.Bind{WorkflowID: wid, Update: workflows.UpdateAddRemediation, UpdateID: updateID}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		h, err := raw.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: wid, UpdateName: workflows.UpdateAddRemediation, UpdateID: updateID,
			Args:         []any{breach.AddRemediation{Actor: admin, Title: "planted in plain JSON"}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err == nil || !strings.Contains(err.Error(), "payload is not encrypted") {
			t.Fatalf("plain-JSON Update: err = %v, want it refused as not encrypted", err)
		}

		code, body := api.do("POST", "/v1/incidents/"+id+"/remediations", stack.token, map[string]any{"title": "rotate the bucket's keys"}, nil)
		if code != 201 {
			t.Fatalf("remediation through the API: %d %v", code, body)
		}
		iter := stack.client.GetWorkflowHistory(ctx, wid, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		accepted := 0
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(ev.String(), updateID) || strings.Contains(ev.String(), "planted") {
				t.Errorf("history holds the refused Update: %v", ev)
			}
			if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil &&
				a.GetAcceptedRequest().GetInput().GetName() == workflows.UpdateAddRemediation {
				accepted++
			}
		}
		if accepted != 1 {
			t.Errorf("history has %d accepted add_remediation Updates, want 1 (the API's)", accepted)
		}
	})

	pki := newTestPKI(t)
	frontend := stack.temporal.FrontendHostPort()
	keys, err := devKeys(stack.cfg)
	if err != nil {
		t.Fatal(err)
	}
	// dial configures a client from variables, as server and worker do,
	// and makes one real call through the proxy to the embedded server.
	dial := func(t *testing.T, addr string, env map[string]string) error {
		t.Helper()
		env["BREACHFLOW_TEMPORAL_ADDRESS"] = addr
		cfg, err := config.Flags(pflag.NewFlagSet("t", pflag.ContinueOnError), func(k string) string { return env[k] })()
		if err != nil {
			t.Fatalf("config: %v", err)
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		c, err := dialCluster(dctx, cfg, keys, stack.log, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.DescribeWorkflowExecution(dctx, wid, "")
		return err
	}
	caEnv := func(extra ...string) map[string]string {
		env := map[string]string{"BREACHFLOW_TEMPORAL_TLS_CA": pki.caFile, "BREACHFLOW_TEMPORAL_TLS_SERVER_NAME": "temporal.test"}
		for i := 0; i+1 < len(extra); i += 2 {
			env[extra[i]] = extra[i+1]
		}
		return env
	}

	t.Run("TLS", func(t *testing.T) {
		p := startTemporalProxy(t, frontend, pki.serverTLS(false), "")
		if err := dial(t, p.addr, caEnv()); err != nil {
			t.Fatalf("TLS with the right CA: %v", err)
		}
		if p.calls.Load() == 0 {
			t.Fatal("the client reached Temporal without going through the TLS proxy")
		}
		if err := dial(t, p.addr, caEnv("BREACHFLOW_TEMPORAL_TLS_CA", pki.otherCAFile)); err == nil {
			t.Fatal("TLS with the wrong CA connected")
		}
		if err := dial(t, p.addr, map[string]string{}); err == nil {
			t.Fatal("plaintext to a TLS frontend connected")
		}
	})

	t.Run("mTLS", func(t *testing.T) {
		p := startTemporalProxy(t, frontend, pki.serverTLS(true), "")
		if err := dial(t, p.addr, caEnv("BREACHFLOW_TEMPORAL_TLS_CERT", pki.clientCert, "BREACHFLOW_TEMPORAL_TLS_KEY", pki.clientKey)); err != nil {
			t.Fatalf("mTLS with the client certificate: %v", err)
		}
		before := p.calls.Load()
		if err := dial(t, p.addr, caEnv()); err == nil {
			t.Fatal("mTLS without a client certificate connected")
		}
		if p.calls.Load() != before {
			t.Fatal("a call without the client certificate reached Temporal")
		}
	})

	t.Run("API key", func(t *testing.T) {
		const key = "tcld-test-api-key-0123456789"
		p := startTemporalProxy(t, frontend, pki.serverTLS(false), key)
		if err := dial(t, p.addr, caEnv("BREACHFLOW_TEMPORAL_API_KEY", key)); err != nil {
			t.Fatalf("with the API key: %v", err)
		}
		err := dial(t, p.addr, caEnv())
		if status.Code(errors.Unwrap(err)) != codes.Unauthenticated && !strings.Contains(fmt.Sprint(err), "API key") {
			t.Fatalf("without the API key: err = %v, want Unauthenticated", err)
		}
		if err := dial(t, p.addr, caEnv("BREACHFLOW_TEMPORAL_API_KEY", "wrong-key-0123456789")); err == nil {
			t.Fatal("a wrong API key connected")
		}
	})
}

// temporalProxy is a gRPC proxy with TLS (and, when the server config asks,
// client certificates) in front of the embedded Temporal frontend. With
// apiKey set it refuses calls whose `authorization` metadata is not
// "Bearer <apiKey>", as Temporal Cloud does. Bytes pass through unparsed.
type temporalProxy struct {
	addr  string
	calls atomic.Int64 // calls forwarded to Temporal
}

// rawCodec passes gRPC messages as bytes, so the proxy needs no types.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func startTemporalProxy(t *testing.T, upstream string, serverTLS *tls.Config, apiKey string) *temporalProxy {
	t.Helper()
	up, err := grpc.NewClient(upstream, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = up.Close() })
	p := &temporalProxy{}
	forward := func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		md, _ := metadata.FromIncomingContext(stream.Context())
		if apiKey != "" {
			if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+apiKey {
				return status.Error(codes.Unauthenticated, "missing or wrong API key")
			}
		}
		var req, resp []byte
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		md = md.Copy()
		md.Delete("authorization")
		p.calls.Add(1)
		// Every WorkflowService method is unary, so one message each way.
		if err := up.Invoke(metadata.NewOutgoingContext(stream.Context(), md), method, &req, &resp, grpc.ForceCodec(rawCodec{})); err != nil {
			return err
		}
		return stream.SendMsg(&resp)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(serverTLS)), grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(forward))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	p.addr = ln.Addr().String()
	return p
}

// testPKI is a CA with a server and a client certificate, and another CA
// that signed neither, written to PEM files as an operator would have them.
type testPKI struct {
	caFile, otherCAFile   string
	clientCert, clientKey string
	caPool                *x509.CertPool
	server                tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(1)
	issue := func(tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, key *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return cert, der
	}
	caTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	caKey := newKey()
	ca, caDER := issue(caTmpl("breachflow test CA"), nil, nil, caKey)
	otherKey := newKey()
	_, otherDER := issue(caTmpl("some other CA"), nil, nil, otherKey)

	srvKey := newKey()
	_, srvDER := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "temporal.test"}, DNSNames: []string{"temporal.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, caKey, srvKey)
	cliKey := newKey()
	_, cliDER := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "breachflow-worker"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, caKey, cliKey)
	cliKeyDER, err := x509.MarshalPKCS8PrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &testPKI{
		caFile:      write("ca.pem", "CERTIFICATE", caDER),
		otherCAFile: write("other-ca.pem", "CERTIFICATE", otherDER),
		clientCert:  write("client.pem", "CERTIFICATE", cliDER),
		clientKey:   write("client-key.pem", "PRIVATE KEY", cliKeyDER),
		caPool:      pool,
		server:      tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey},
	}
}

// serverTLS is the proxy's TLS: the server certificate, and with mutual
// set, client certificates from the CA required.
func (p *testPKI) serverTLS(mutual bool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	if mutual {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, p.caPool
	}
	return cfg
}
