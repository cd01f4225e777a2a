# Cellule worker installer for Windows, served (templated) by the pool at /v1/install/worker.ps1.
# In an elevated PowerShell:
#   & ([scriptblock]::Create((iwr -UseBasicParsing __POOL_URL__/v1/install/worker.ps1).Content)) -Code CODE
# Installs cellule.exe from the pool, redeems the single-use code for this machine's worker token,
# and registers the Scheduled Task "cellule-worker" (SYSTEM, at boot, restarted on failure).
param(
  [Parameter(Mandatory = $true)][string]$Code,
  [string]$Name = $env:COMPUTERNAME,
  [string]$Pool = "__POOL_URL__"
)
$ErrorActionPreference = "Stop"
if (-not ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw "cellule install: run in an elevated (Administrator) PowerShell"
}
if ($Code -notmatch '^[A-Za-z0-9_-]+$') { throw "cellule install: the provisioning code has unexpected characters" }
if ($Name -notmatch '^[A-Za-z0-9._-]+$') { $Name = "worker" }
$arch = if ($env:PROCESSOR_ARCHITECTURE -eq "ARM64") { "arm64" } else { "x64" }
$binDir = Join-Path $env:ProgramFiles "Cellule"
$dataDir = Join-Path $env:ProgramData "Cellule"
New-Item -ItemType Directory -Force -Path $binDir, $dataDir | Out-Null

Write-Host "cellule install: downloading cellule-windows-$arch.exe from $Pool"
$tmp = Join-Path $binDir "cellule.exe.new"
Invoke-WebRequest -UseBasicParsing -Uri "$Pool/v1/install/bin/cellule-windows-$arch.exe" -OutFile $tmp
$want = ((Invoke-WebRequest -UseBasicParsing -Uri "$Pool/v1/install/bin/cellule-windows-$arch.exe.sha256").Content -split ' ')[0].Trim()
$got = (Get-FileHash -Algorithm SHA256 -Path $tmp).Hash.ToLower()
if ($want -ne $got) { Remove-Item $tmp; throw "cellule install: binary SHA-256 mismatch ($got != $want)" }
Stop-ScheduledTask -TaskName "cellule-worker" -ErrorAction SilentlyContinue
Move-Item -Force $tmp (Join-Path $binDir "cellule.exe")

Write-Host "cellule install: redeeming the provisioning code"
$body = @{ code = $Code; name = $Name } | ConvertTo-Json -Compress
$config = Invoke-WebRequest -UseBasicParsing -Method Post -Uri "$Pool/v1/provisioning/redeem" -ContentType "application/json" -Body $body
$conf = Join-Path $dataDir "worker.json"
Set-Content -Path $conf -Value $config.Content -Encoding UTF8
# Only SYSTEM and Administrators may read the worker token.
icacls $conf /inheritance:r /grant:r "SYSTEM:F" "Administrators:F" | Out-Null

$xml = @'
__TASK_XML__
'@
Register-ScheduledTask -TaskName "cellule-worker" -Xml $xml -Force | Out-Null
Start-ScheduledTask -TaskName "cellule-worker"
Write-Host "cellule install: done (Get-ScheduledTask cellule-worker)"
