"""deepviz's web application: thin routers over the engine, server-rendered pages."""

import os

# One BLAS thread per process, however the server is started (deepviz serve, uvicorn, gunicorn):
# OpenBLAS's idle threads spin, and under load they burnt three quarters of the CPU (1,855
# LeNet frames/s with one thread, 456 without). Set before numpy is first imported.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
