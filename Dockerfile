FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# The admin's static files, served by WhiteNoise from STATIC_ROOT.
RUN python manage.py collectstatic --noinput
EXPOSE 7512
# No WebSocket per-message compression, as Kuzzle (protocols.websocket.compression: false): it would
# compress every notification once per subscriber.
CMD ["uvicorn", "project.asgi:application", "--host", "0.0.0.0", "--port", "7512", "--no-access-log", "--ws", "websockets-sansio", "--ws-per-message-deflate", "false"]
