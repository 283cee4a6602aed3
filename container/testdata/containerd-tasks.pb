
¶
nsx-sample·< *0/run/containerd/fifo/3456869544/nsx-sample-stdin21/run/containerd/fifo/3456869544/nsx-sample-stdout:1/run/containerd/fifo/3456869544/nsx-sample-stderrR€’¸Ã˜þÿÿÿ