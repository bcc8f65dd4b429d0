package main

import "net/http"

func mountSocketIO(mux *http.ServeMux) {}
