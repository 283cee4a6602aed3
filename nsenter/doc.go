// Package nsenter runs programs and Go functions inside the namespaces of
// another process, correctly for all eight kinds of Linux namespace.
//
// A Go program is always multithreaded, and the kernel lets only a
// single-threaded process join user and time namespaces, while mount joins
// need a thread that does not share its filesystem state. This package hides
// those rules: Command starts a program through a single-threaded child that
// joins every requested namespace with raw system calls before it executes
// the program, and Do runs a Go function on a dedicated, locked thread that
// has joined the thread-joinable kinds and is thrown away afterwards.
package nsenter
