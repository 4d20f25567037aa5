// Package ctl is handoffctl: a command-line client of handoffd's gRPC API
// for agents, operators and scripts. Each command is one call (watch: a
// stream that resumes by itself), printed as JSON or as a table.
package ctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"gopkg.in/yaml.v3"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Settings are what every command needs, from flags, the environment
// (HANDOFFCTL_*) or the config file, in that order of precedence.
type Settings struct {
	Addr    string `yaml:"addr"`
	Token   string `yaml:"token"`
	Channel string `yaml:"channel"`
	Output  string `yaml:"output"`
	TLS     bool   `yaml:"tls"`
	CAFile  string `yaml:"ca_file"`
}

// defaults are the settings when nothing else says.
var defaults = Settings{Addr: "localhost:9090", Output: "table"}

// env names the environment variable of each setting.
var env = map[string]string{
	"addr": "HANDOFFCTL_ADDR", "token": "HANDOFFCTL_TOKEN", "channel": "HANDOFFCTL_CHANNEL",
	"output": "HANDOFFCTL_OUTPUT", "ca-file": "HANDOFFCTL_CA_FILE",
}

// Main runs handoffctl with args (without the program name) and returns
// its exit status: 0, 1 for a failed call, 2 for a wrong command line.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRoot(stdout, getenv)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.As(err, new(*usageError)):
		fmt.Fprintf(stderr, "handoffctl: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "handoffctl: %s\n", describe(err))
		return 1
	}
}

// usageError is a wrong command line, as opposed to a call that failed.
type usageError struct{ error }

// app is one run: its settings, once resolved, and its connection.
type app struct {
	out      io.Writer
	getenv   func(string) string
	config   string
	settings Settings
	conn     *grpc.ClientConn
	api      handoffv1.JourneyServiceClient
	types    handoffv1.JourneyTypeServiceClient
	ids      handoffv1.IdentityServiceClient
}

func newRoot(stdout io.Writer, getenv func(string) string) *cobra.Command {
	a := &app{out: stdout, getenv: getenv}
	root := &cobra.Command{
		Use:   "handoffctl",
		Short: "handoffctl calls handoffd's gRPC API: read, save, hand off and watch journeys",
		Long: `handoffctl calls handoffd's gRPC API with a bearer token, as the website,
an agent's desk or an operator would.

Settings come from flags, then HANDOFFCTL_ADDR, HANDOFFCTL_TOKEN,
HANDOFFCTL_CHANNEL, HANDOFFCTL_OUTPUT and HANDOFFCTL_CA_FILE, then the
config file (YAML: addr, token, channel, output, tls, ca_file).

A journey is named customers/<customer>/journeys/<journey>.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.connect(cmd) },
		PersistentPostRun: func(*cobra.Command, []string) {
			if a.conn != nil {
				_ = a.conn.Close()
			}
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	f := root.PersistentFlags()
	f.StringVar(&a.config, "config", "", "config file (default: handoffctl/config.yaml in the user's config directory, if there)")
	f.String("addr", "", `handoffd's gRPC address (default "localhost:9090")`)
	f.String("token", "", "bearer token")
	f.String("channel", "", "the channel calls come from: web, app, phone, chat, social, email, in_person (default: the role's)")
	f.StringP("output", "o", "", `json or table (default "table")`)
	f.Bool("tls", false, "dial with TLS (the system's CAs, or --ca-file)")
	f.String("ca-file", "", "PEM bundle of the CAs trusted for handoffd's certificate; implies --tls")
	for _, c := range commands(a) {
		root.AddCommand(c)
	}
	return root
}

// connect resolves the settings and dials handoffd (lazily: nothing is
// sent until the command's call).
func (a *app) connect(cmd *cobra.Command) error {
	s := defaults
	path := a.config
	if path == "" {
		if dir, err := os.UserConfigDir(); err == nil {
			path = filepath.Join(dir, "handoffctl", "config.yaml")
			if _, err := os.Stat(path); err != nil {
				path = ""
			}
		}
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return &usageError{fmt.Errorf("--config: %w", err)}
		}
		if err := yaml.Unmarshal(b, &s); err != nil {
			return &usageError{fmt.Errorf("--config %s: %w", path, err)}
		}
	}
	set := func(name string, field *string) {
		if v := a.getenv(env[name]); v != "" {
			*field = v
		}
		if cmd.Flags().Changed(name) {
			*field, _ = cmd.Flags().GetString(name)
		}
	}
	set("addr", &s.Addr)
	set("token", &s.Token)
	set("channel", &s.Channel)
	set("output", &s.Output)
	set("ca-file", &s.CAFile)
	if cmd.Flags().Changed("tls") {
		s.TLS, _ = cmd.Flags().GetBool("tls")
	}
	if s.Output != "json" && s.Output != "table" {
		return &usageError{fmt.Errorf("--output %q: json or table", s.Output)}
	}
	if s.Token == "" {
		return &usageError{errors.New("no token: give --token, set HANDOFFCTL_TOKEN, or put token: in the config file")}
	}
	creds := insecure.NewCredentials()
	if s.TLS || s.CAFile != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.CAFile != "" {
			pem, err := os.ReadFile(s.CAFile)
			if err != nil {
				return &usageError{fmt.Errorf("--ca-file: %w", err)}
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return &usageError{fmt.Errorf("--ca-file %s holds no PEM certificate", s.CAFile)}
			}
		}
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return &usageError{fmt.Errorf("--addr %s: %w", s.Addr, err)}
	}
	a.settings, a.conn, a.api, a.types = s, conn, handoffv1.NewJourneyServiceClient(conn), handoffv1.NewJourneyTypeServiceClient(conn)
	a.ids = handoffv1.NewIdentityServiceClient(conn)
	return nil
}

// call is the context of one call: the token, and the channel if one was
// given.
func (a *app) call(ctx context.Context) context.Context {
	kv := []string{"authorization", "Bearer " + a.settings.Token}
	if a.settings.Channel != "" {
		kv = append(kv, "x-handoff-channel", strings.ToLower(a.settings.Channel))
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}
