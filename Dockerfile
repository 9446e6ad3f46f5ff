# Simul in a container: it runs as an unprivileged user, and the data
# directory (database, LTPA keys, certificate) is a volume.
#
#   docker build -t simul .
#   docker run -d --name simul -p 8080:8080 -p 8443:8443 \
#       -v simul-data:/var/lib/simul -e SIMUL_SERVER__DOMAIN=chat.example.com simul
#   docker exec simul cat /var/lib/simul/initial-admin-password
#
# Configuration: SIMUL_* variables, or a file mounted read-only and named
# with `serve --config /etc/simul/simul.toml`. Logs go to `docker logs`.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p simul

FROM debian:bookworm-slim
# CA certificates: LDAPS and `simul sso doctor --url https://...`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/simul --shell /usr/sbin/nologin simul \
 && install -d -o simul -g simul -m 0700 /var/lib/simul
COPY --from=build /src/target/release/simul /usr/local/bin/simul
USER simul
WORKDIR /var/lib/simul
VOLUME /var/lib/simul
ENV SIMUL_DATA=/var/lib/simul \
    SIMUL_SERVER__HTTP=0.0.0.0:8080 \
    SIMUL_SERVER__HTTPS=0.0.0.0:8443
EXPOSE 8080 8443
# The first SIGTERM lets sessions end cleanly (docker stop waits 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["simul"]
CMD ["serve"]
