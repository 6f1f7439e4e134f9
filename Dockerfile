FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
EXPOSE 7512
CMD ["uvicorn", "project.asgi:application", "--host", "0.0.0.0", "--port", "7512", "--no-access-log"]
