; Per-user installer of Layer Desktop for Windows (no administrator rights): the PyInstaller folder
; goes to %LOCALAPPDATA%\Programs\LayerDesktop, with Start-menu entries and an uninstaller.
; Build: makensis -DVERSION=0.1.0 -DPAYLOAD=dist\layer-desktop -DOUTFILE=LayerDesktop-0.1.0-setup.exe layer-desktop.nsi
Unicode true
ManifestDPIAware true
RequestExecutionLevel user
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef PAYLOAD
  !error "PAYLOAD (the PyInstaller folder) must be defined"
!endif
!ifndef OUTFILE
  !define OUTFILE "LayerDesktop-${VERSION}-setup.exe"
!endif
!define APPNAME "Layer Desktop"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\LayerDesktop"

!include "MUI2.nsh"

Name "${APPNAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\LayerDesktop"
InstallDirRegKey HKCU "Software\LayerDesktop" "InstallDir"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\layer-desktop.exe"
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "Layer Desktop" SecMain
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  ; an update replaces the whole folder: old libraries must not linger beside new ones
  RMDir /r "$INSTDIR\_internal"
  File /r "${PAYLOAD}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "Software\LayerDesktop" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "Layer Desktop"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  CreateDirectory "$SMPROGRAMS\${APPNAME}"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk" "$INSTDIR\layer-desktop.exe"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\Diagnostics (layer doctor).lnk" "$SYSDIR\cmd.exe" '/k "$INSTDIR\layer.exe" doctor'
  ; smoke test: a broken install is caught now, not at first use
  nsExec::ExecToLog '"$INSTDIR\layer.exe" doctor'
  Pop $0
  DetailPrint "layer doctor exit status: $0"
SectionEnd

Section "Uninstall"
  SetShellVarContext current
  Delete "$SMPROGRAMS\${APPNAME}\*.lnk"
  RMDir "$SMPROGRAMS\${APPNAME}"
  RMDir /r "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTKEY}"
  DeleteRegKey HKCU "Software\LayerDesktop"
SectionEnd
