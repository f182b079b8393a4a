# Local stand-ins for mcr.microsoft.com/dotnet/aspnet and mcr.microsoft.com/dotnet/sdk, for machines that cannot
# pull them (deploy/compose-smoke.sh builds them only when the engine has no image of that name). Built from a
# Debian bookworm base made with debootstrap (BASE) and the .NET of the machine that runs the smoke test: the build
# context is a folder holding `dotnet/` (that installation) and `ca-certificates.crt` (that machine's trust store,
# so that the SDK stand-in restores from NuGet through the same proxies as the host does).
# Like the official images: .NET in /usr/share/dotnet with `dotnet` on the PATH, the non-root user `app` with the
# uid in APP_UID (1654), DOTNET_RUNNING_IN_CONTAINER, ASPNETCORE_HTTP_PORTS=8080.
ARG BASE=localhost/flame-smoke-debian:bookworm

FROM ${BASE} AS aspnet
COPY dotnet/dotnet /usr/share/dotnet/dotnet
COPY dotnet/host/ /usr/share/dotnet/host/
COPY dotnet/shared/ /usr/share/dotnet/shared/
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && groupadd --gid 1654 app && useradd --uid 1654 --gid 1654 --create-home --shell /bin/false app
ENV APP_UID=1654 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    ASPNETCORE_HTTP_PORTS=8080

FROM aspnet AS sdk
COPY dotnet/ /usr/share/dotnet/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV ASPNETCORE_HTTP_PORTS="" \
    DOTNET_NOLOGO=true \
    DOTNET_CLI_TELEMETRY_OPTOUT=true \
    DOTNET_GENERATE_ASPNET_CERTIFICATE=false \
    NUGET_XMLDOC_MODE=skip
