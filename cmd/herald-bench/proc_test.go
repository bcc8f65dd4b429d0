package main

import (
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"testing"
)

const sampleStatus = `Name:	node
Umask:	0022
State:	S (sleeping)
VmPeak:	 1190932 kB
VmRSS:	  203172 kB
RssAnon:	  160328 kB
RssFile:	   42844 kB
Threads:	11
`

func TestParseStatus(t *testing.T) {
	m, err := parseStatus(strings.NewReader(sampleStatus))
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS != 203172*1024 || !m.HasAnon || m.RssAnon != 160328*1024 {
		t.Fatalf("%+v", m)
	}
	m, err = parseStatus(strings.NewReader("Name:\tx\nVmRSS:\t 10 kB\n"))
	if err != nil || m.RSS != 10240 || m.HasAnon {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"Name:\tkthreadd\n", "VmRSS:\t 10 MB\n", "VmRSS:\t x kB\n"} {
		if _, err := parseStatus(strings.NewReader(bad)); err == nil {
			t.Errorf("parseStatus(%q) succeeded", bad)
		}
	}
}

func TestParseStat(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	line := "1234 (we ird) name)) S 1 1234 1234 0 -1 4194560 2951 0 0 0 250 75 0 0 20 0 11 0 123 456\n"
	got, err := parseStat([]byte(line))
	if err != nil || got != 325 {
		t.Fatalf("parseStat = %d, %v; want 325", got, err)
	}
	if ut, st, err := parseStatSplit([]byte(line)); err != nil || ut != 250 || st != 75 {
		t.Fatalf("parseStatSplit = %d, %d, %v; want 250, 75", ut, st, err)
	}
	for _, bad := range []string{"", "1234 (x) S 1 2", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 u s"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
}

func TestAuxv(t *testing.T) {
	words := []uint64{6, 4096, 17, 100, 3, 0x400040, 0, 0, 17, 250}
	b := make([]byte, 0, 8*len(words))
	for _, w := range words {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	if v, ok := auxvValue(b, atClkTck, 8, binary.LittleEndian); !ok || v != 100 {
		t.Fatalf("auxvValue = %d %v", v, ok)
	}
	if _, ok := auxvValue(b, 99, 8, binary.LittleEndian); ok {
		t.Fatal("found an absent key (past AT_NULL)")
	}
	b32 := make([]byte, 0, 16)
	for _, w := range []uint32{17, 1024, 0, 0} {
		b32 = binary.BigEndian.AppendUint32(b32, w)
	}
	if v, ok := auxvValue(b32, atClkTck, 4, binary.BigEndian); !ok || v != 1024 {
		t.Fatalf("32-bit auxvValue = %d %v", v, ok)
	}
}

func TestProcSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	m, err := readMem(os.Getpid())
	if err != nil || m.RSS <= 0 {
		t.Fatalf("readMem(self) = %+v, %v", m, err)
	}
	if _, err := readCPUTicks(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if hz := clockTicks(); hz != 100 {
		t.Errorf("CLK_TCK = %d; Linux's USER_HZ is 100 on every current architecture", hz)
	}
	soft, hard, err := raiseNoFile()
	if err != nil || soft != hard || soft == 0 {
		t.Fatalf("raiseNoFile = %d, %d, %v", soft, hard, err)
	}
	if _, err := readMem(1 << 30); err == nil {
		t.Fatal("readMem of a nonexistent pid succeeded")
	}
}
