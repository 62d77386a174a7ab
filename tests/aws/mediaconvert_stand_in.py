"""MediaConvert, which moto does not have, stood in for by the project's own media engine.

- `Probe` answers from the file itself: fetched from (moto's) S3 and probed locally, then
  written in MediaConvert's response shape; a file that cannot be probed answers with no
  probe results (which the ingest task reads as `source.unreadable`).
- `CreateJob` checks the request against botocore's model (a stubbed client: the request
  is validated before the Stubber answers) and the project's walker of the same model
  (enums, minimums, maximums, Automated ABR's rules), then encodes the input with the
  local engine and writes a real CMAF package where the job's CMAF group points, under
  MediaConvert's names (`master.m3u8`, `master.mpd`).
- The state machine's `mediaconvert:createJob.sync` task, which moto's interpreter does
  not run, runs CreateJob and then waits on `GetJob` as Step Functions does: `COMPLETE` is
  the task's output; `ERROR` fails the task with `States.TaskFailed` and the job as the
  cause. `fail_next_job` makes the next job end in `ERROR`.

What is not MediaConvert here: the ladder the package has (the local `default` policy at
the fastest preset, not the job's outputs) and the probe's field coverage."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from primevod.adapters.aws.mediaconvert_model import validate_create_job
from primevod.adapters.media.ffmpeg_command import EncodeOptions
from primevod.adapters.media.pyav_probe import probe_file
from primevod.adapters.media.transcoder import MediaEngine
from primevod.core.errors import MediaError
from primevod.core.policies import get_policy
from primevod.core.probe import ProbeResult

REGION = "us-east-1"
MANIFEST_NAMES = {"master.m3u8": "master.m3u8", "manifest.mpd": "master.mpd"}


def probe_response(probe: ProbeResult) -> dict[str, Any]:
    """What MediaConvert's Probe would answer for a file, from the local probe of it."""
    tracks: list[dict[str, Any]] = []
    for v in probe.video:
        rate = Fraction(v.frame_rate or 0).limit_denominator(1001)
        frame_rate = {"Numerator": rate.numerator, "Denominator": rate.denominator}
        codec = {"h264": "AVC", "hevc": "HEVC"}.get(v.codec, "UNKNOWN")
        props = {"Width": v.width, "Height": v.height, "FrameRate": frame_rate, "BitDepth": 8}
        tracks.append({"TrackType": "video", "Index": v.index, "Codec": codec, **_dur(v.duration)})
        tracks[-1]["VideoProperties"] = props
    for a in probe.audio:
        props = {"Channels": a.channels, "SampleRate": a.sample_rate}
        tracks.append({"TrackType": "audio", "Index": a.index, "Codec": "AAC", **_dur(a.duration)})
        tracks[-1]["AudioProperties"] = props
    container = {"Format": "mp4", "Duration": probe.duration, "Tracks": tracks}
    return {"ProbeResults": [{"Container": container, "Metadata": {"FileSize": probe.size}}]}


def _dur(seconds: float | None) -> dict[str, float]:
    return {"Duration": seconds} if seconds else {}


def _split(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bucket, key


class StandInMediaConvert:
    """A MediaConvert client (botocore's, stubbed) whose answers come from real media."""

    def __init__(self, workdir: Path) -> None:
        self.client = boto3.client("mediaconvert", region_name=REGION)
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        # the first event of a call, before the Stubber looks for its answer
        self.client.meta.events.register(
            "provide-client-params.mediaconvert.Probe", self._answer_probe
        )
        self.workdir = workdir
        self.jobs: list[dict[str, Any]] = []
        self.fail_next_job: str | None = None
        self.problems: list[str] = []  # what the model walker found in a request

    def _fetch(self, url: str) -> Path:
        bucket, key = _split(url)
        path = Path(tempfile.mkdtemp(dir=self.workdir)) / Path(key).name
        boto3.client("s3", region_name=REGION).download_file(bucket, key, str(path))
        return path

    def _answer_probe(self, params: dict[str, Any], **_: Any) -> None:
        [input_file] = params["InputFiles"]
        try:
            response = probe_response(probe_file(self._fetch(input_file["FileUrl"])))
        except MediaError:
            response = {"ProbeResults": []}
        self.stubber.add_response("probe", response)

    def create_job(self, request: dict[str, Any]) -> dict[str, Any]:
        """Validate, encode, and answer as CreateJob does (the job as submitted)."""
        self.problems = validate_create_job(request)
        if self.problems:
            raise ValueError(f"CreateJob request breaks the model: {self.problems}")
        number = len(self.jobs) + 1
        job = {
            "Id": f"1700000000000-job{number:03d}",
            "Arn": f"arn:aws:mediaconvert:{REGION}:123456789012:jobs/1700000000000-job{number:03d}",
            "Role": request["Role"],
            "Queue": request.get("Queue", "Default"),
            "Settings": request["Settings"],
            "UserMetadata": request.get("UserMetadata", {}),
            "Status": "SUBMITTED",
        }
        self.stubber.add_response("create_job", {"Job": job})
        submitted = self.client.create_job(**request)["Job"]  # botocore validates the request
        if self.fail_next_job:
            job["Status"], job["ErrorCode"] = "ERROR", 1030
            job["ErrorMessage"], self.fail_next_job = self.fail_next_job, None
        else:
            self._encode(request["Settings"])
            job["Status"] = "COMPLETE"
        self.jobs.append(job)
        return {"Job": submitted}

    def get_job(self, job_id: str) -> dict[str, Any]:
        [job] = [j for j in self.jobs if j["Id"] == job_id]
        self.stubber.add_response("get_job", {"Job": job}, {"Id": job_id})
        return self.client.get_job(Id=job_id)

    def _encode(self, settings: dict[str, Any]) -> None:
        source = self._fetch(settings["Inputs"][0]["FileInput"])
        [cmaf] = [
            g["OutputGroupSettings"]["CmafGroupSettings"]
            for g in settings["OutputGroups"]
            if g["OutputGroupSettings"]["Type"] == "CMAF_GROUP_SETTINGS"
        ]
        bucket, prefix = _split(cmaf["Destination"])
        prefix = prefix.rsplit("/", 1)[0] + "/"  # the destination names the manifests' stem
        out = Path(tempfile.mkdtemp(dir=self.workdir)) / "package"
        package = MediaEngine(EncodeOptions(preset="ultrafast")).transcode(
            source, out, get_policy("default")
        )
        root, s3 = Path(package.output_dir), boto3.client("s3", region_name=REGION)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            s3.upload_file(str(path), bucket, prefix + MANIFEST_NAMES.get(name, name))


def run_sync_jobs(monkeypatch: pytest.MonkeyPatch, mediaconvert: StandInMediaConvert) -> None:
    """Give moto's interpreter a `mediaconvert` service task that runs `.sync` jobs on the
    stand-in (moto forwards unsupported services' calls without waiting on them)."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    class MediaConvertTask(StateTaskServiceCallback):
        def __init__(self) -> None:
            super().__init__(
                supported_integration_patterns={
                    ResourceCondition.WaitForTaskToken,
                    ResourceCondition.Sync,
                }
            )

        def _get_supported_parameters(self) -> set[str]:
            """What the optimized integration takes: CreateJob's request members."""
            shape = mediaconvert.client.meta.service_model.operation_model("CreateJob")
            return set(shape.input_shape.members)

        def _eval_service_task(
            self, env, resource_runtime_part, normalised_parameters, state_credentials
        ):
            assert self._get_boto_service_action() == "create_job"
            env.stack.append(mediaconvert.create_job(normalised_parameters))

        def _build_sync_resolver(
            self, env, resource_runtime_part, normalised_parameters, state_credentials
        ):
            job_id = env.stack.pop()["Job"]["Id"]

            def resolve() -> Any:
                job = mediaconvert.get_job(job_id)
                job.pop("ResponseMetadata", None)
                if job["Job"]["Status"] == "COMPLETE":
                    return job
                if job["Job"]["Status"] != "ERROR":
                    return None
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=EventDetails(
                            taskFailedEventDetails=TaskFailedEventDetails(
                                resource=self._get_sfn_resource(),
                                resourceType=self._get_sfn_resource_type(),
                                error=StatesErrorNameType.StatesTaskFailed.to_name(),
                                cause=to_json_str(job["Job"]),
                            )
                        ),
                    )
                )

            return resolve

    real = state_task_factory.state_task_service_for

    def service_for(service_name: str) -> Any:
        return MediaConvertTask() if service_name == "mediaconvert" else real(service_name)

    monkeypatch.setattr(state_task_factory, "state_task_service_for", service_for)
