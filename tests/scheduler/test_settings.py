from scheduler.settings import ROOT, Settings


def test_environment_prefix_and_groq_key(monkeypatch):
    monkeypatch.setenv("TASKPILOT_SEED", "7")
    monkeypatch.setenv("GROQ_API_KEY", "gsk_test")
    monkeypatch.setenv("TASKPILOT_MAX_BATCH_JOBS", "12")
    s = Settings()
    assert (s.seed, s.groq_api_key, s.max_batch_jobs) == (7, "gsk_test", 12)


def test_empty_values_mean_unset(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "")
    monkeypatch.setenv("TASKPILOT_LLM_BASE_URL", " ")
    monkeypatch.setenv("TASKPILOT_CACHE_DIR", "")
    s = Settings()
    assert s.groq_api_key is None and s.llm_base_url is None and s.cache_dir is None


def test_defaults_point_inside_the_project(monkeypatch):
    for key in ("TASKPILOT_DATA_DIR", "TASKPILOT_CACHE_DIR"):
        monkeypatch.delenv(key, raising=False)
    s = Settings()
    assert s.data_dir == ROOT / "dataset_rl" and s.cache_dir == ROOT / ".cache"
