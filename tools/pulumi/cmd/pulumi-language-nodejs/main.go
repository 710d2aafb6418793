// Command pulumi-language-nodejs is a small Node.js language host for the pinned
// pulumi CLI. Upstream's host is a nested module (sdk/nodejs/cmd/pulumi-language-nodejs)
// that the Go module proxy here does not serve, so this one implements the part of
// the LanguageRuntime protocol that `pulumi preview/up/destroy` and policy packs use:
// Run starts @pulumi/pulumi/cmd/run and RunPlugin starts cmd/run-policy-pack or
// cmd/run-plugin, each resolved from the program's node_modules. Plugins are not
// reported up front (GetRequiredPackages is empty): the engine loads each provider
// when the program first registers a resource of it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Exit code of @pulumi/pulumi/cmd/run after it has already shown the error to the user.
const exitAfterLoggedError = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.EngineAddress
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version.Version, "v")}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node not found on PATH")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimSpace(string(out))}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// resolveScript finds an @pulumi/pulumi entry point the way Node would from dir.
func resolveScript(dir, module string) (string, error) {
	cmd := exec.Command("node", "-e", "process.stdout.write(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot resolve %s from %s (have you run `npm ci`?): %v: %s",
			module, dir, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func options(info *pulumirpc.ProgramInfo) map[string]any {
	if info == nil || info.Options == nil {
		return map[string]any{}
	}
	return info.Options.AsMap()
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.Info
	if info == nil {
		return nil, errors.New("RunRequest without program info; this host needs pulumi >= 3.100")
	}
	script, err := resolveScript(info.ProgramDirectory, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	opts := options(info)
	var args []string
	if nodeargs, ok := opts["nodeargs"].(string); ok && nodeargs != "" {
		args = append(args, strings.Fields(nodeargs)...)
	}
	args = append(args, script,
		"--monitor="+req.MonitorAddress,
		"--engine="+h.engineAddress,
		"--organization="+req.Organization,
		"--project="+req.Project,
		"--stack="+req.Stack,
		"--root-directory="+info.RootDirectory,
		"--pwd="+info.ProgramDirectory,
		"--parallel="+strconv.Itoa(int(req.Parallel)),
	)
	if req.DryRun {
		args = append(args, "--dry-run")
	}
	args = append(args, info.EntryPoint)
	args = append(args, req.Args...)

	// The SDK wants a JSON object and array, never null.
	config, err := json.Marshal(nonNil(req.Config))
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(append([]string{}, req.ConfigSecretKeys...))
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	// TypeScript is on unless Pulumi.yaml says `typescript: false`, as upstream.
	if ts, ok := opts["typescript"].(bool); !ok || ts {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if tsconfig, ok := opts["tsconfig"].(string); ok && tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.Pwd
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == exitAfterLoggedError:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("running node: %v", err)}, nil
	}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// streamWriter forwards a child's output as RunPlugin responses.
type streamWriter struct {
	mu     *sync.Mutex
	srv    pulumirpc.LanguageRuntime_RunPluginServer
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := bytes.Clone(p)
	resp := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	if w.stderr {
		resp = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}
	if err := w.srv.Send(resp); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, srv pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.Info == nil {
		return errors.New("RunPluginRequest without program info")
	}
	dir := req.Info.ProgramDirectory
	var args []string
	if req.Kind == "analyzer" {
		// run-policy-pack takes <engine-address> <policy pack dir>; the engine sends its address in Args.
		script, err := resolveScript(dir, "@pulumi/pulumi/cmd/run-policy-pack")
		if err != nil {
			return err
		}
		args = append(append([]string{script}, req.Args...), dir)
	} else {
		script, err := resolveScript(dir, "@pulumi/pulumi/cmd/run-plugin")
		if err != nil {
			return err
		}
		args = append([]string{script, dir}, req.Args...)
	}
	cmd := exec.CommandContext(srv.Context(), "node", args...)
	cmd.Dir = req.Pwd
	if req.Kind == "analyzer" {
		// @pulumi/policy reads the pack's version from ./package.json.
		cmd.Dir = dir
	}
	cmd.Env = append(os.Environ(), req.Env...)
	mu := &sync.Mutex{}
	cmd.Stdout = streamWriter{mu: mu, srv: srv}
	cmd.Stderr = streamWriter{mu: mu, srv: srv, stderr: true}
	code := 0
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return fmt.Errorf("running node: %w", err)
		}
		code = exit.ExitCode()
	}
	mu.Lock()
	defer mu.Unlock()
	return srv.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

func main() {
	// The engine passes flags (tracing, logging) and then its own address last.
	h := &host{}
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-") {
			h.engineAddress = a
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-language-nodejs: node not found on PATH")
		os.Exit(1)
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}
