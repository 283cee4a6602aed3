
	
default

k8s.io

moby