# One image runs any Akkoord service: `docker run akkoord <service>` (portal, tasks, signing, documents,
# timeline, automation). Development tools (SecantusDB, pytest) are not installed here.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt ./
COPY contracts contracts
COPY services services
RUN python -m venv /opt/akkoord \
 && grep -viE '^(secantusdb|pytest|s2sphere|shapely)' constraints.txt > /tmp/constraints.txt \
 && /opt/akkoord/bin/pip install --no-cache-dir -c /tmp/constraints.txt .

FROM python:3.11-slim
RUN useradd --uid 10001 --user-group --no-create-home akkoord
COPY --from=build /opt/akkoord /opt/akkoord
ENV PATH=/opt/akkoord/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
ENTRYPOINT ["sh", "-c", "exec python -m services.$0 \"$@\""]
CMD ["portal"]
