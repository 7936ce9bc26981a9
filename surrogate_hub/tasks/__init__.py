"""Tasks: the datasets architectures are trained on.

`get_task("digits", seed=0)` returns a registered offline task (see `list_tasks`);
`get_task("npy:/data/unseen/addnist")` or `NpyTask("/data/unseen", "addnist")` reads a dataset
in the Unseen-NAS layout. `Task.load()` returns the normalised splits as a `TaskData`.

numpy only: importing this package does not import torch (scikit-learn is imported only when a
digit task is generated).
"""

from surrogate_hub.tasks import offline as _offline  # noqa: F401  (registers the offline suite)
from surrogate_hub.tasks import offline_v2 as _offline_v2  # noqa: F401  (tasks added for corpus v2)
from surrogate_hub.tasks.base import SPLITS, Task, TaskData, TaskError
from surrogate_hub.tasks.npy import NpyTask
from surrogate_hub.tasks.offline import GeneratedTask
from surrogate_hub.tasks.registry import get_task, list_tasks, register_task

__all__ = [
    "SPLITS",
    "GeneratedTask",
    "NpyTask",
    "Task",
    "TaskData",
    "TaskError",
    "get_task",
    "list_tasks",
    "register_task",
]
