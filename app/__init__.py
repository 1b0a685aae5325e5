"""deepviz's web application: thin routers over the engine, server-rendered pages."""
