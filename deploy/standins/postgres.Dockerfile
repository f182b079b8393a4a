# A local stand-in for the official postgres:15 image, for machines that cannot pull it (deploy/compose-smoke.sh
# builds it only when the engine has no image of that name): Debian's PostgreSQL 15 on the debootstrap base, with
# an entry point that honours what deploy/compose.yaml uses of the official one: POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB, the data in /var/lib/postgresql/data, *.sql and *.sh of /docker-entrypoint-initdb.d run once on a new
# data folder, pg_isready on the PATH, port 5432 on every address with password (scram-sha-256) authentication.
ARG BASE=localhost/flame-smoke-debian:bookworm
FROM ${BASE}
RUN mkdir -p /etc/postgresql-common/createcluster.d \
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main-cluster.conf \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
