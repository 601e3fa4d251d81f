module github.com/chorus/bench

go 1.24
