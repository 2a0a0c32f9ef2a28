# One image runs any Akkoord service: `docker run akkoord <service>` (portal, tasks, signing, documents,
# timeline, automation, notifications). Development tools (SecantusDB, pytest) are not installed here.
FROM node:20-slim AS web
WORKDIR /web
COPY services/portal/web/package.json services/portal/web/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt ./
COPY contracts contracts
COPY services services
COPY --from=web /web/node_modules/signature_pad/dist/signature_pad.umd.min.js services/portal/static/vendor/
RUN python -m venv /opt/akkoord \
 && /opt/akkoord/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.11-slim
RUN useradd --uid 10001 --user-group --no-create-home akkoord
COPY --from=build /opt/akkoord /opt/akkoord
ENV PATH=/opt/akkoord/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
ENTRYPOINT ["sh", "-c", "exec python -m services.$0 \"$@\""]
CMD ["portal"]
