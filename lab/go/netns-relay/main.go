// netns-relay: TCP ports of the lab's network namespace, reachable on the host's loopback.
//
// The real-node lab runs its control plane, node and pods inside a network namespace the lab created, so nothing it
// does touches the host's network. Only the API server (and, for readiness probes, the components' health ports) must
// be reachable from the host: each `-map HOST=NETNS` listens on HOST in the host's namespace and connects each
// accepted connection to NETNS inside the lab's namespace. Standard library only.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
)

type mapping struct{ host, inner string }

type mappings []mapping

func (m *mappings) String() string { return fmt.Sprint(*m) }
func (m *mappings) Set(v string) error {
	host, inner, ok := strings.Cut(v, "=")
	if !ok || host == "" || inner == "" {
		return fmt.Errorf("want HOST_ADDR=NETNS_ADDR, got %q", v)
	}
	*m = append(*m, mapping{host, inner})
	return nil
}

// setnsNumber is setns(2) for the architectures the lab runs on (the syscall package has no constant for it).
func setnsNumber() uintptr {
	switch runtime.GOARCH {
	case "amd64":
		return 308
	case "arm64":
		return 268
	}
	log.Fatalf("netns-relay: unsupported architecture %s", runtime.GOARCH)
	return 0
}

type dialRequest struct {
	addr  string
	reply chan dialResult
}
type dialResult struct {
	conn net.Conn
	err  error
}

// dialer serves dials from one OS thread that has joined the namespace for good: sockets take the namespace of the
// thread that creates them. The thread is never unlocked, so Go retires it instead of reusing it elsewhere.
func dialer(nsPath string, requests <-chan dialRequest, ready chan<- error) {
	runtime.LockOSThread()
	f, err := os.Open(nsPath)
	if err != nil {
		ready <- err
		return
	}
	defer f.Close()
	if _, _, e := syscall.RawSyscall(setnsNumber(), f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
		ready <- fmt.Errorf("setns %s: %w", nsPath, e)
		return
	}
	ready <- nil
	for r := range requests {
		c, err := net.Dial("tcp", r.addr)
		r.reply <- dialResult{c, err}
	}
}

func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if t, ok := dst.(*net.TCPConn); ok {
			_ = t.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
	a.Close()
	b.Close()
}

func main() {
	var ms mappings
	nsPath := flag.String("netns", "", "path of the network namespace (/run/netns/NAME)")
	flag.Var(&ms, "map", "HOST_ADDR=NETNS_ADDR, repeatable")
	flag.Parse()
	if *nsPath == "" || len(ms) == 0 {
		fmt.Fprintln(os.Stderr, "usage: netns-relay -netns /run/netns/NAME -map 127.0.0.1:6443=127.0.0.1:6443 [-map ...]")
		os.Exit(2)
	}
	requests := make(chan dialRequest)
	ready := make(chan error)
	go dialer(*nsPath, requests, ready)
	if err := <-ready; err != nil {
		log.Fatalf("netns-relay: %v", err)
	}
	for _, m := range ms {
		l, err := net.Listen("tcp", m.host)
		if err != nil {
			log.Fatalf("netns-relay: %v", err)
		}
		go func(l net.Listener, inner string) {
			for {
				c, err := l.Accept()
				if err != nil {
					// A port that stopped relaying must not look alive: end the process, lab:status shows it.
					log.Fatalf("netns-relay: accept on %s: %v", l.Addr(), err)
				}
				go func() {
					reply := make(chan dialResult, 1)
					requests <- dialRequest{inner, reply}
					r := <-reply
					if r.err != nil {
						log.Printf("%s -> %s: %v", c.RemoteAddr(), inner, r.err)
						c.Close()
						return
					}
					pipe(c, r.conn)
				}()
			}
		}(l, m.inner)
		log.Printf("relaying %s -> %s in %s", m.host, m.inner, *nsPath)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
