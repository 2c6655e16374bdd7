// TODO(stub): not written yet
