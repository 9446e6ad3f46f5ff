// The Simul chat client.
